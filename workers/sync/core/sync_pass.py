"""One pass of one entity: list both sides, plan, apply, and move the checkpoint.

The loop a runner repeats (see workers/sync/runner.py), over the ports of `ports` only, so the
hypothesis state machine (tests/sync/test_state_machine.py) drives this very function with
in-memory fakes and crashes injected anywhere.

The checkpoint advances only after a clean pass (`ExecutionResult.may_advance_sync_state`), in
the transaction of the pass's last links: a pass killed anywhere is redone from the old
checkpoint, and the CRM ids stamped on created items and the link bases make the redo free of
duplicates and echoes. A failed pass rolls its uncommitted writes back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from app.kit.sync_policy import Direction
from app.kit.sync_terms import EntryLevel, RunStatus
from workers.sync.core.actions import Plan, Skip
from workers.sync.core.engine import BATCH_SIZE, ExecutionResult, execute_plan
from workers.sync.core.journal import ActionKind, Journal, Outcome
from workers.sync.core.planner import items_to_fetch, plan_sync
from workers.sync.core.policy import EntityPolicy
from workers.sync.core.ports import (
    CheckpointStore,
    CrmSide,
    ItemFailures,
    ItemIds,
    LinkStore,
    MailboxFolder,
    NoItemFailures,
    PendingFailures,
)
from workers.sync.core.records import CrmItem, LinkState, RemoteItem, Unreadable


class EntityRules(Protocol):
    """What a pass asks of the entity it synchronizes."""

    def policy(self, *, deletions_confirmed: bool) -> EntityPolicy: ...

    def left_alone(self, item: RemoteItem, first_sync: bool) -> str | None:
        """Why an unlinked Outlook item stays out of this run (a window, privacy), if it does."""


class PassProgress(Protocol):
    """Hears how far a pass has got, for the run's progress report."""

    def listing(self) -> None: ...

    def planned(self, *, listed: int, planned: int) -> None: ...

    def applied(self, count: int) -> None: ...


class _Unheard:
    def listing(self) -> None:
        pass

    def planned(self, *, listed: int, planned: int) -> None:
        pass

    def applied(self, count: int) -> None:
        pass


@dataclass(frozen=True)
class SkippedItems:
    """Items an administrator chose to leave out of synchronization (from the run log)."""

    crm_ids: Collection[str] = frozenset()
    remote_ids: Collection[str] = frozenset()


@dataclass(frozen=True)
class PassResult:
    plan: Plan
    execution: ExecutionResult
    unreadable: int = 0  # items left out of this pass because they could not be read

    @property
    def status(self) -> RunStatus:
        if self.unreadable and self.execution.status is RunStatus.SUCCESS:
            return RunStatus.SUCCESS_WITH_ERRORS
        return self.execution.status

    @property
    def wrote_mailbox(self) -> bool:
        """Whether the plan wrote to the mailbox: a next pass reads those writes back."""
        return any(
            getattr(action, "remote_write", None) is not None for action in self.plan.actions
        )


def sync_pass(
    *,
    crm: CrmSide,
    mailbox: MailboxFolder,
    links: LinkStore,
    checkpoint: CheckpointStore,
    entity: EntityRules,
    journal: Journal,
    crm_clock: Callable[[], datetime],
    skipped: SkippedItems = SkippedItems(),
    failures: ItemFailures = NoItemFailures(),
    should_stop: Callable[[], bool] = lambda: False,
    batch_size: int = BATCH_SIZE,
    progress: PassProgress | None = None,
) -> PassResult:
    """Plans and applies one pass; the checkpoint advances only after a clean one."""
    progress = progress or _Unheard()
    progress.listing()
    point = checkpoint.load()
    all_links = links.states()
    pending = failures.pending()
    # Held items and their links stay out of the pass until an administrator retries them.
    link_states = [link for link in all_links if link not in pending.held]
    bases = {link.remote_id: link.base for link in link_states}
    # Taken before reading, so a change made while this pass reads is seen by the next one.
    next_watermark = crm_clock()
    crm_listing = crm.list_changes(point.crm_watermark, {link.crm_id for link in link_states})
    remote_listing = mailbox.list_changes(point.sync_state, bases)
    crm_read: dict[str, CrmItem | Unreadable | None] = dict(crm_listing.changes)
    remote_read: dict[str, RemoteItem | Unreadable | None] = dict(remote_listing.changes)
    due = pending.due
    crm_read.update(crm.fetch(sorted(due.crm_ids - crm_read.keys())))
    remote_read.update(mailbox.fetch(sorted(due.remote_ids - remote_read.keys()), bases))
    crm_changes, crm_bad = _readable(crm_read)
    remote_readable, remote_bad = _readable(remote_read)
    remote_changes = _admitted(entity, remote_readable, link_states, journal)
    for crm_id in {*skipped.crm_ids, *pending.held.crm_ids}:
        crm_changes.pop(crm_id, None)
    for remote_id in {*skipped.remote_ids, *pending.held.remote_ids}:
        remote_changes.pop(remote_id, None)
    unreadable = _report_unreadable(crm_bad, remote_bad, failures, journal, pending)
    retried = due | pending.waiting  # a waiting item repaired and listed again counts too
    failures.recovered(
        ItemIds(
            frozenset(retried.crm_ids & crm_changes.keys()),
            frozenset(retried.remote_ids & remote_changes.keys()),
        )
    )
    # A link whose item could not be read is neither updated nor taken for deleted this pass.
    link_states = [link for link in link_states if link not in unreadable]
    for crm_id, reason in sorted(crm_listing.left_alone.items()):
        journal.log(EntryLevel.DEBUG, ActionKind.SKIP, reason, crm_id=crm_id)
    to_fetch = items_to_fetch(link_states)
    crm_missing = sorted(i for i in to_fetch.crm_ids if i not in crm_changes)
    remote_missing = sorted(i for i in to_fetch.remote_ids if i not in remote_changes)
    if crm_missing:
        fetched, bad = _readable(crm.fetch(crm_missing))
        crm_changes.update(fetched)
        unreadable |= _report_unreadable(bad, {}, failures, journal, pending)
    if remote_missing:
        fetched_remote, bad = _readable(mailbox.fetch(remote_missing, bases))
        remote_changes.update(fetched_remote)
        unreadable |= _report_unreadable({}, bad, failures, journal, pending)
    link_states = [link for link in link_states if link not in unreadable]

    plan = plan_sync(
        link_states,
        crm_changes,
        remote_changes,
        entity.policy(deletions_confirmed=point.deletions_confirmed),
        crm_complete=crm_listing.complete,
        remote_complete=remote_listing.complete,
    )
    progress.planned(
        listed=len(crm_changes) + len(remote_changes),
        planned=sum(1 for action in plan.actions if not isinstance(action, Skip)),
    )
    result = execute_plan(
        plan,
        crm,
        mailbox,
        links,
        batch_size=batch_size,
        should_stop=should_stop,
        on_applied=progress.applied,
    )
    journal.absorb(result.journal)
    if result.status is RunStatus.FAILED:
        links.discard()
    elif result.may_advance_sync_state:
        checkpoint.advance(remote_listing.sync_state, next_watermark)
        links.commit()
    attempted = ItemIds(
        unreadable.crm_ids - pending.left_out.crm_ids,
        unreadable.remote_ids - pending.left_out.remote_ids,
    )
    return PassResult(plan, result, len(attempted.crm_ids) + len(attempted.remote_ids))


_Item = TypeVar("_Item", CrmItem, RemoteItem)


def _readable(
    read: Mapping[str, _Item | Unreadable | None],
) -> tuple[dict[str, _Item | None], dict[str, str]]:
    """The items a side could read (None: gone), and why each of the others could not be."""
    readable: dict[str, _Item | None] = {}
    bad: dict[str, str] = {}
    for item_id, item in read.items():
        if isinstance(item, Unreadable):
            bad[item_id] = item.reason
        else:
            readable[item_id] = item
    return readable, bad


def _report_unreadable(
    crm_bad: Mapping[str, str],
    remote_bad: Mapping[str, str],
    failures: ItemFailures,
    journal: Journal,
    pending: PendingFailures,
) -> ItemIds:
    """An error entry and a counted failure for each item a side could not read; an item
    backing off from an earlier failure, or held, is left out without counting again."""
    sides = (
        (crm_bad, pending.left_out.crm_ids, "CRM record", Direction.CRM_TO_OUTLOOK, "crm_id"),
        (
            remote_bad,
            pending.left_out.remote_ids,
            "Outlook item",
            Direction.OUTLOOK_TO_CRM,
            "remote_id",
        ),
    )
    for bad, left_out, what, direction, id_name in sides:
        for item_id, reason in sorted(bad.items()):
            if item_id in left_out:
                continue
            held = failures.failed(reason, **{id_name: item_id})
            message = _unreadable_message(what, reason, held)
            journal.log(EntryLevel.ERROR, ActionKind.SKIP, message, **{id_name: item_id})
            journal.count(direction, Outcome.ERRORS)
    return ItemIds(frozenset(crm_bad), frozenset(remote_bad))


def _unreadable_message(what: str, reason: str, held: bool) -> str:
    then = "held until an administrator retries it" if held else "tried again on a later run"
    return f"the {what} cannot be synchronized ({reason}); skipped, {then}"


def _admitted(
    entity: EntityRules,
    changes: dict[str, RemoteItem | None],
    links: Iterable[LinkState],
    journal: Journal,
) -> dict[str, RemoteItem | None]:
    """The Outlook changes this pass plans with: unlinked items the entity leaves alone go."""
    linked = {link.remote_id for link in links}
    first_sync = not linked
    admitted: dict[str, RemoteItem | None] = {}
    for remote_id, item in changes.items():
        reason = (
            None if item is None or remote_id in linked else entity.left_alone(item, first_sync)
        )
        if reason is None:
            admitted[remote_id] = item
        else:
            journal.log(EntryLevel.DEBUG, ActionKind.SKIP, reason, remote_id=remote_id)
    return admitted
