"""One synchronization run of one user: for each entity, load, plan, apply, record."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_database, unit_of_work
from app.kit.clock import crm_now
from app.kit.sync_terms import EntryLevel, RunStatus
from app.models.sync import FolderState, RunEntry, SkippedItem, SyncRun
from app.runs.schemas import RunRead
from app.runs.service import to_read
from app.sync_control import service as sync_control
from app.sync_settings.service import effective_settings
from app.users import repository as users_repository
from app.users.service import connection_for
from workers.connectors.ews.connection import ErrorClass, classify, open_account
from workers.metrics import QUEUE_LAG, SYNC_DURATION, SYNC_ITEMS, SYNC_RUNS
from workers.sync.core import engine
from workers.sync.core.planner import (
    Action,
    CrmItem,
    LinkState,
    RemoteItem,
    items_to_fetch,
    plan_sync,
)
from workers.sync.links import DatabaseLinkStore
from workers.sync.recording import finish_run, start_run
from workers.sync.wiring import EntitySource, sources_for

logger = logging.getLogger("crmsync.sync")

_LEVELS = [EntryLevel.DEBUG, EntryLevel.INFO, EntryLevel.WARNING, EntryLevel.ERROR]


class UnknownSyncUser(LookupError):
    pass


@dataclass(frozen=True)
class RunRequest:
    user_id: int
    run_id: int | None = None
    trigger: str = "manual"


@dataclass
class EntityOutcome:
    entity: str
    status: engine.RunStatus
    journal: engine.Journal
    deletions_held: bool = False
    message: str | None = None


@dataclass
class RunReport:
    outcomes: list[EntityOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {}
        for outcome in self.outcomes:
            per_direction: dict[str, dict[str, int]] = {}
            for (direction, kind), amount in outcome.journal.counts.items():
                per_direction.setdefault(direction.value, {})[kind.value] = amount
            counts[outcome.entity] = per_direction
        return counts

    def status(self) -> RunStatus:
        statuses = {o.status for o in self.outcomes}
        if engine.RunStatus.INTERRUPTED in statuses:
            return RunStatus.INTERRUPTED
        if statuses and statuses == {engine.RunStatus.FAILED}:
            return RunStatus.FAILED
        if statuses - {engine.RunStatus.SUCCESS}:
            return RunStatus.SUCCESS_WITH_ERRORS
        return RunStatus.SUCCESS

    def message(self) -> str | None:
        notes = [f"{o.entity}: {o.message}" for o in self.outcomes if o.message]
        return "; ".join(notes) or None


def _folder_state(db: Session, user_id: int, entity: str) -> FolderState:
    state = db.get(FolderState, (user_id, entity))
    if state is None:
        state = FolderState(user_id=user_id, entity=entity, deletions_confirmed=False)
        db.add(state)
        db.flush()
    return state


# A pass that wrote to Exchange is followed by another, which reads back crmsync's own writes as
# echoes (no action) and moves the stored sync state past them: Exchange need not report the
# later deletion of an item created after the state a client holds.
MAX_PASSES = 3


def sync_entity(
    db: Session,
    source: EntitySource,
    account: Any,
    run_id: int | None,
    should_stop: Callable[[], bool] = lambda: False,
) -> EntityOutcome:
    """Synchronizes one entity, pass after pass until nothing more is written to Exchange."""
    outcome = EntityOutcome(source.entity, engine.RunStatus.SUCCESS, engine.Journal())
    for _ in range(MAX_PASSES):
        status, wrote_exchange = _sync_pass(db, source, account, run_id, outcome, should_stop)
        outcome.status = status
        if status is not engine.RunStatus.SUCCESS or not wrote_exchange:
            break
    return outcome


def _sync_pass(
    db: Session,
    source: EntitySource,
    account: Any,
    run_id: int | None,
    outcome: EntityOutcome,
    should_stop: Callable[[], bool],
) -> tuple[engine.RunStatus, bool]:
    """Plans and applies one pass; the sync state advances only after a clean pass."""
    state = _folder_state(db, source.user_id, source.entity)
    links = DatabaseLinkStore(db, source.user_id, source.entity, run_id)
    link_states = links.states()
    gateway = source.gateway(account)
    crm = source.crm_side(db)
    # Before listing: a gateway may read an item against what it last synchronized as.
    for link in link_states:
        gateway.known.setdefault(link.remote_id, link.base)

    # Taken before reading, so a change made while this pass reads is seen by the next one.
    next_watermark = crm_now()
    crm_listing = crm.list_changes(state.crm_watermark, {link.crm_id for link in link_states})
    remote_listing = gateway.list_changes(state.sync_state)
    crm_changes = dict(crm_listing.changes)
    remote_changes = _admitted(source, remote_listing.changes, link_states, outcome.journal)
    _drop_skipped(db, source, crm_changes, remote_changes)
    _log_left_alone(outcome.journal, crm_listing.left_alone)
    to_fetch = items_to_fetch(link_states)
    crm_missing = [i for i in to_fetch.crm_ids if i not in crm_changes]
    remote_missing = [i for i in to_fetch.remote_ids if i not in remote_changes]
    if crm_missing:
        crm_changes.update(crm.fetch(crm_missing))
    if remote_missing:
        remote_changes.update(gateway.fetch(remote_missing))

    plan = plan_sync(
        link_states,
        crm_changes,
        remote_changes,
        source.policy(deletions_confirmed=state.deletions_confirmed),
        crm_complete=crm_listing.complete,
        remote_complete=remote_listing.complete,
    )
    result = engine.execute_plan(plan, crm, gateway, links, should_stop=should_stop)
    _absorb(outcome.journal, result.journal)
    if plan.guard.tripped:
        outcome.deletions_held = True
        outcome.message = plan.guard.reason
    if result.status is engine.RunStatus.FAILED:
        db.rollback()
    elif result.may_advance_sync_state:
        state = _folder_state(db, source.user_id, source.entity)
        state.sync_state = remote_listing.sync_state
        state.crm_watermark = next_watermark
        state.deletions_confirmed = False
        links.commit()
    return result.status, any(_writes_exchange(action) for action in plan.actions)


def _drop_skipped(
    db: Session,
    source: EntitySource,
    crm_changes: dict[str, CrmItem | None],
    remote_changes: dict[str, RemoteItem | None],
) -> None:
    """Leaves out the items an administrator chose to skip from the run log."""
    rows = db.execute(
        select(SkippedItem.crm_id, SkippedItem.remote_id).where(
            SkippedItem.user_id == source.user_id, SkippedItem.entity == source.entity
        )
    )
    for crm_id, remote_id in rows:
        crm_changes.pop(crm_id, None)
        remote_changes.pop(remote_id, None)


def _admitted(
    source: EntitySource,
    changes: dict[str, RemoteItem | None],
    links: Iterable[LinkState],
    journal: engine.Journal,
) -> dict[str, RemoteItem | None]:
    """The Outlook changes this pass plans with: unlinked items the entity leaves alone go."""
    linked = {link.remote_id for link in links}
    first_sync = not linked
    admitted: dict[str, RemoteItem | None] = {}
    for remote_id, item in changes.items():
        reason = (
            None if item is None or remote_id in linked else source.left_alone(item, first_sync)
        )
        if reason is None:
            admitted[remote_id] = item
        else:
            journal.log(engine.LogLevel.DEBUG, engine.ActionKind.SKIP, reason, remote_id=remote_id)
    return admitted


def _log_left_alone(journal: engine.Journal, left_alone: dict[str, str]) -> None:
    for crm_id, reason in sorted(left_alone.items()):
        journal.log(engine.LogLevel.DEBUG, engine.ActionKind.SKIP, reason, crm_id=crm_id)


def _absorb(total: engine.Journal, part: engine.Journal) -> None:
    total.counts.update(part.counts)
    total.entries.extend(part.entries)
    total.conflicts.extend(part.conflicts)


def _writes_exchange(action: Action) -> bool:
    return getattr(action, "remote_write", None) is not None


def _entries(outcome: EntityOutcome, run: SyncRun, threshold: EntryLevel) -> Iterable[RunEntry]:
    minimum = _LEVELS.index(threshold)
    for entry in outcome.journal.entries:
        level = EntryLevel(entry.level.value)
        if _LEVELS.index(level) < minimum:
            continue
        yield RunEntry(
            run_id=run.id,
            user_id=run.user_id,
            entity=outcome.entity,
            level=level,
            action=entry.action.value,
            crm_id=entry.crm_id,
            remote_id=entry.remote_id,
            message=entry.message,
        )


def run_user_sync(request: RunRequest) -> RunRead:
    """Runs one synchronization of the user to the end and records it."""
    with unit_of_work() as db:
        user = users_repository.get_sync_user(db, request.user_id)
        if user is None:
            raise UnknownSyncUser(f"no sync user {request.user_id}")
        run = start_run(db, request.user_id, request.run_id, request.trigger)
        run_id = run.id
        settings = effective_settings(db, request.user_id)
        connection = connection_for(user)
    report = RunReport()
    failure: str | None = None
    failure_kind: ErrorClass | None = None
    try:
        account = open_account(connection)
        with get_database().session_factory() as db:
            for source in sources_for(request.user_id, settings, db):
                report.outcomes.append(sync_entity(db, source, account, run_id))
    except Exception as exc:
        failure_kind, failure = classify(exc)
        logger.warning("sync of user %s failed: %s", request.user_id, failure, exc_info=True)
    with unit_of_work() as db:
        finished = db.get(SyncRun, run_id)
        assert finished is not None
        for outcome in report.outcomes:
            db.add_all(_entries(outcome, finished, settings.log_level))
        if failure is not None:
            db.add(
                RunEntry(
                    run_id=run_id, user_id=request.user_id, level=EntryLevel.ERROR, message=failure
                )
            )
        finish_run(
            finished,
            RunStatus.FAILED if failure else report.status(),
            counts=report.counts(),
            message=failure or report.message(),
            deletions_held=any(o.deletions_held for o in report.outcomes),
        )
        finished.failure_kind = failure_kind.value if failure_kind else None
        if failure_kind is ErrorClass.PERMANENT and failure is not None:
            sync_control.record_permanent_failure(db, request.user_id, failure)
        elif failure is None:
            sync_control.record_success(db, request.user_id)
        _observe(finished, report)
        return to_read(finished)


def _observe(run: SyncRun, report: RunReport) -> None:
    SYNC_RUNS.labels(run.status).inc()
    if run.started_at is not None:
        QUEUE_LAG.observe(max((run.started_at - run.queued_at).total_seconds(), 0.0))
        if run.finished_at is not None:
            SYNC_DURATION.observe((run.finished_at - run.started_at).total_seconds())
    for outcome in report.outcomes:
        for (direction, kind), amount in outcome.journal.counts.items():
            SYNC_ITEMS.labels(outcome.entity, direction.value, kind.value).inc(amount)
