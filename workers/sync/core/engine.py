"""The executor: applies a `Plan` through the CRM, Exchange and link-store adapters.

Contract with the runner (the caller):

* The CRM side and the link store share ONE transaction (in production one SQLAlchemy
  session): `LinkStore.commit()` commits the CRM writes and the links together. The executor
  commits after every batch, so a run killed anywhere loses at most one batch of CRM writes and
  links; the Exchange writes of that batch stay and are recognised on the next run (tags, echoes
  equal to the base), so nothing is duplicated or lost.
* Conflict records are committed *before* the writes that overwrite the values they keep, so a
  crash cannot lose a value without its record (at worst a record is written twice).
* The runner advances the Exchange sync state and the CRM watermark only when
  `ExecutionResult.may_advance_sync_state` is true: the whole plan applied without errors and
  no deletion withheld. Otherwise the next run lists the same changes again (plus newer ones),
  which is how failed items are retried and withheld deletions are re-evaluated.
* After a `FAILED` result the runner rolls back the shared transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from app.kit.chunks import chunked
from app.kit.sync_policy import Direction
from app.kit.sync_terms import EntryLevel, RunStatus
from workers.sync.core.actions import (
    Applied,
    ConflictRecord,
    CreateInCrm,
    CreateInOutlook,
    Decider,
    DeleteInCrm,
    DeleteInOutlook,
    Hold,
    Plan,
    Reconcile,
    Remove,
    Skip,
    UpdateCrm,
    UpdateOutlook,
)
from workers.sync.core.attempts import PairProgress, attempt, bulk
from workers.sync.core.journal import APPLIED_FLOW, KIND_COUNTS, ActionKind, Journal, Outcome
from workers.sync.core.ports import CrmSide, LinkStore, MailboxFolder, RemoteCreated
from workers.sync.core.records import RemoteItem, is_empty

# The executor's vocabulary, importable from one place by the runner and tests.
__all__ = [
    "ActionKind",
    "EntryLevel",
    "ExecutionResult",
    "Journal",
    "Outcome",
    "RemoteCreated",
    "RunStatus",
    "execute_plan",
]

BATCH_SIZE = 100  # Exchange's comfortable bulk size; also the commit interval


@dataclass(frozen=True)
class ExecutionResult:
    """How applying a plan went; the statuses are the recorded runs' own (never Queued or
    Running)."""

    status: RunStatus
    journal: Journal
    guard_tripped: bool

    @property
    def may_advance_sync_state(self) -> bool:
        """Whether the runner may store the new sync state / watermark (see module docstring)."""
        return self.status is RunStatus.SUCCESS and not self.guard_tripped


_R = TypeVar("_R")
_W = TypeVar("_W")


class _Executor:
    def __init__(
        self,
        plan: Plan,
        crm: CrmSide,
        remote: MailboxFolder,
        links: LinkStore,
        batch_size: int,
        should_stop: Callable[[], bool],
        on_applied: Callable[[int], None],
    ) -> None:
        self.plan = plan
        self.crm = crm
        self.remote = remote
        self.links = links
        self.batch_size = batch_size
        self.should_stop = should_stop
        self.on_applied = on_applied
        self.journal = Journal()

    def run(self) -> ExecutionResult:
        guard = self.plan.guard
        if guard.reason:
            level = EntryLevel.WARNING if guard.tripped else EntryLevel.INFO
            self.journal.log(level, ActionKind.GUARD, guard.reason)
        for batch in self._batches():
            if self.should_stop():
                return self._result(RunStatus.INTERRUPTED)
            error = attempt(lambda: self._apply(batch))  # noqa: B023 - called at once
            if isinstance(error, Exception):
                self.journal.count(Direction.BOTH, Outcome.ERRORS)
                self.journal.log(EntryLevel.ERROR, ActionKind.LINK, f"run failed: {error!r}")
                return self._result(RunStatus.FAILED)
            self.on_applied(len(batch))
        for action in self.plan.actions:
            if isinstance(action, Skip):
                self._log_skip(action)
        status = RunStatus.SUCCESS_WITH_ERRORS if self.journal.errors else RunStatus.SUCCESS
        return self._result(status)

    def _result(self, status: RunStatus) -> ExecutionResult:
        return ExecutionResult(status, self.journal, self.plan.guard.tripped)

    def _batches(self) -> Iterator[Sequence[Reconcile | Remove | Hold]]:
        # Grouping by the kind of Exchange write keeps every bulk request full: the request
        # count stays at the minimum that `batch_size`-item batches allow.
        groups: dict[tuple[type | None, Hashable], list[Reconcile | Remove | Hold]] = {}
        for action in self.plan.actions:
            if not isinstance(action, Skip):
                write = None if isinstance(action, Hold) else action.remote_write
                groups.setdefault((type(write), self._write_group(write)), []).append(action)
        for group in groups.values():
            yield from chunked(group, self.batch_size)

    def _write_group(
        self, write: CreateInOutlook | UpdateOutlook | DeleteInOutlook | None
    ) -> Hashable:
        """The connector's group for a write (see MailboxFolder): items of a group share batches."""
        grouping = getattr(self.remote, "write_group", None)
        if grouping is None or write is None or isinstance(write, DeleteInOutlook):
            return None
        record = write.record if isinstance(write, CreateInOutlook) else write.changes
        group: Hashable = grouping(record)
        return group

    def _apply(self, batch: Sequence[Reconcile | Remove | Hold]) -> None:
        self._record_conflicts([conflict for action in batch for conflict in action.conflicts])
        progress = [PairProgress.start(action) for action in batch]
        self._create_in_outlook(progress)
        self._update_outlook(progress)
        self._delete_in_outlook(progress)
        for item in progress:
            self._write_crm(item)
        for item in progress:
            self._store_link(item)
        self.links.commit()

    def _record_conflicts(self, conflicts: Sequence[ConflictRecord]) -> None:
        """Keep conflicts before anything is overwritten: a crash must not lose a value unseen."""
        if not conflicts:
            return
        self.links.record_conflicts(conflicts)
        self.links.commit()
        self.journal.conflicts.extend(conflicts)
        for conflict in conflicts:
            self.journal.count(APPLIED_FLOW[conflict.applied], Outcome.CONFLICTS)

    # --- Exchange ------------------------------------------------------------------------

    def _create_in_outlook(self, progress: Sequence[PairProgress]) -> None:
        pending = [
            (item, item.action.remote_write)
            for item in progress
            if not isinstance(item.action, Hold)
            and isinstance(item.action.remote_write, CreateInOutlook)
        ]
        if not pending:
            return
        found: Mapping[str, RemoteItem] | Exception = {}
        if not self.plan.remote_listing_complete:
            tags = [write.tag for _, write in pending]
            found = attempt(lambda: self.remote.find_by_tags(tags))
        if isinstance(found, Exception):
            for item, _ in pending:
                self._fail(item, ActionKind.CREATE_IN_OUTLOOK, found)
            return
        found = {
            tag: existing
            for tag, existing in found.items()
            if existing.remote_id not in self.plan.claimed_remote_ids
        }
        adopted = [(item, write, found[write.tag]) for item, write in pending if write.tag in found]
        fresh = [(item, write) for item, write in pending if write.tag not in found]

        def created(item: PairProgress, _: CreateInOutlook, result: RemoteCreated) -> str:
            item.remote_id, item.change_key = result.remote_id, result.change_key
            return "created in Outlook"

        self._write_outlook(self.remote.create_many, fresh, ActionKind.CREATE_IN_OUTLOOK, created)
        self._adopt(adopted)

    def _adopt(self, adopted: Sequence[tuple[PairProgress, CreateInOutlook, RemoteItem]]) -> None:
        """Take over items an interrupted run created, bringing them to the planned values."""
        updates: list[tuple[PairProgress, UpdateOutlook]] = []
        conflicts: list[ConflictRecord] = []
        for item, write, existing in adopted:
            item.remote_id, item.change_key = existing.remote_id, existing.change_key
            changes = {
                name: value
                for name, value in write.record.items()
                if name not in existing.record or existing.record[name] != value
            }
            conflicts.extend(
                ConflictRecord(
                    write.tag,
                    existing.remote_id,
                    name,
                    value,
                    existing.record[name],
                    None,
                    Applied.CRM,
                    Decider.RECOVERY,
                )
                for name, value in changes.items()
                if not is_empty(existing.record.get(name))
            )
            if changes:
                update = UpdateOutlook(
                    existing.remote_id,
                    existing.change_key,
                    changes,
                    current=existing.record,
                )
                updates.append((item, update))
            else:
                self._done(
                    item, ActionKind.CREATE_IN_OUTLOOK, "adopted an item an interrupted run created"
                )
        self._record_conflicts(conflicts)

        def updated(item: PairProgress, _: UpdateOutlook, change_key: str | None) -> str:
            item.change_key = change_key
            return "adopted and updated in Outlook"

        self._write_outlook(self.remote.update_many, updates, ActionKind.CREATE_IN_OUTLOOK, updated)

    def _update_outlook(self, progress: Sequence[PairProgress]) -> None:
        pending = [
            (item, item.action.remote_write)
            for item in progress
            if not isinstance(item.action, Hold)
            and isinstance(item.action.remote_write, UpdateOutlook)
        ]

        def updated(item: PairProgress, write: UpdateOutlook, change_key: str | None) -> str:
            item.change_key = change_key
            return f"updated in Outlook: {sorted(write.changes)}"

        self._write_outlook(self.remote.update_many, pending, ActionKind.UPDATE_OUTLOOK, updated)

    def _delete_in_outlook(self, progress: Sequence[PairProgress]) -> None:
        pending = [
            (item, item.action.remote_write)
            for item in progress
            if isinstance(item.action, Remove) and item.action.remote_write is not None
        ]
        self._write_outlook(
            self.remote.delete_many,
            pending,
            ActionKind.DELETE_IN_OUTLOOK,
            lambda *_: "deleted in Outlook",
        )

    def _write_outlook(
        self,
        call: Callable[[Sequence[_W]], Sequence[_R | Exception]],
        pending: Sequence[tuple[PairProgress, _W]],
        kind: ActionKind,
        succeeded: Callable[[PairProgress, _W, _R], str],
    ) -> None:
        """One bulk Outlook write for a batch's items; each result is that item's done or
        failed, and `succeeded` takes in what the write returned and says what happened."""
        results = bulk(call, [write for _, write in pending])
        for (item, write), result in zip(pending, results, strict=True):
            if isinstance(result, Exception):
                self._fail(item, kind, result)
            else:
                self._done(item, kind, succeeded(item, write, result))

    # --- CRM -----------------------------------------------------------------------------

    def _write_crm(self, item: PairProgress) -> None:
        action = item.action
        if isinstance(action, Hold) or action.crm_write is None:
            return
        write = action.crm_write
        kind = _CRM_KINDS[type(write)]
        result = attempt(lambda: self._crm_write(write))
        if isinstance(result, Exception):
            self._fail(item, kind, result)
            return
        if isinstance(write, CreateInCrm):
            item.crm_id = result
        self._done(item, kind, _CRM_MESSAGES[kind])

    def _crm_write(self, write: CreateInCrm | UpdateCrm | DeleteInCrm) -> str | None:
        """The CRM item's id after a create; None otherwise."""
        if isinstance(write, CreateInCrm):
            return self.crm.create(write.record, write.replaces)
        if isinstance(write, UpdateCrm):
            self.crm.update(write.crm_id, write.changes)
        else:
            self.crm.delete(write.crm_id, write.mode)
        return None

    # --- links ---------------------------------------------------------------------------

    def _store_link(self, item: PairProgress) -> None:
        action = item.action
        if isinstance(action, Hold):
            if action.link != action.previous:
                self.links.save(action.previous, action.link)
                self._log(item, EntryLevel.WARNING, ActionKind.HOLD, "conflict held for review")
            self.journal.count(Direction.BOTH, Outcome.SKIPPED)
        elif isinstance(action, Remove):
            if item.crm_written and item.remote_written and action.link is not None:
                self.links.delete(action.link)
                if action.crm_write is None and action.remote_write is None:
                    self._log(item, EntryLevel.INFO, ActionKind.DROP_LINK, "deleted on both sides")
        else:
            link = action.settled_link(
                crm_id=item.crm_id,
                remote_id=item.remote_id,
                change_key=item.change_key,
                crm_written=item.crm_written,
                remote_written=item.remote_written,
            )
            if link is not None and link != action.link:
                self.links.save(action.link, link)
                if action.crm_write is None and action.remote_write is None:
                    kind = ActionKind.LINK if action.link is None else ActionKind.REFRESH_BASE
                    self._log(item, EntryLevel.INFO, kind, "both sides agree")

    # --- journal -------------------------------------------------------------------------

    def _done(self, item: PairProgress, kind: ActionKind, message: str) -> None:
        direction, outcome = KIND_COUNTS[kind]
        self.journal.count(direction, outcome)
        self._log(item, EntryLevel.INFO, kind, message)

    def _fail(self, item: PairProgress, kind: ActionKind, error: Exception) -> None:
        direction, _ = KIND_COUNTS[kind]
        if direction is Direction.CRM_TO_OUTLOOK:
            item.remote_written = False
        else:
            item.crm_written = False
        self.journal.count(direction, Outcome.ERRORS)
        self._log(item, EntryLevel.ERROR, kind, f"failed: {error}")

    def _log(self, item: PairProgress, level: EntryLevel, kind: ActionKind, message: str) -> None:
        self.journal.log(level, kind, message, crm_id=item.crm_id, remote_id=item.remote_id)

    def _log_skip(self, skip: Skip) -> None:
        self.journal.count(skip.flow, Outcome.SKIPPED)
        self.journal.log(
            EntryLevel.WARNING if skip.flow is Direction.BOTH else EntryLevel.INFO,
            ActionKind.SKIP,
            skip.reason,
            crm_id=skip.crm_id,
            remote_id=skip.remote_id,
        )


_CRM_KINDS: Mapping[type, ActionKind] = {
    CreateInCrm: ActionKind.CREATE_IN_CRM,
    UpdateCrm: ActionKind.UPDATE_CRM,
    DeleteInCrm: ActionKind.DELETE_IN_CRM,
}

_CRM_MESSAGES: Mapping[ActionKind, str] = {
    ActionKind.CREATE_IN_CRM: "created in the CRM",
    ActionKind.UPDATE_CRM: "updated in the CRM",
    ActionKind.DELETE_IN_CRM: "removed in the CRM",
}


def execute_plan(
    plan: Plan,
    crm: CrmSide,
    remote: MailboxFolder,
    links: LinkStore,
    *,
    batch_size: int = BATCH_SIZE,
    should_stop: Callable[[], bool] = lambda: False,
    on_applied: Callable[[int], None] = lambda _count: None,
) -> ExecutionResult:
    """Apply `plan`; one item's failure is logged and the others go on.

    `should_stop` is asked between batches (e.g. a revoked job); stopping yields INTERRUPTED
    with every finished batch committed. `on_applied` hears how many actions each committed
    batch carried (the run's progress).
    """
    return _Executor(plan, crm, remote, links, batch_size, should_stop, on_applied).run()
