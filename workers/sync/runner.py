"""One synchronization run of one user: for each entity, load, plan, apply, record."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import get_database, unit_of_work
from app.kit.clock import crm_now, utc_now
from app.kit.sync_terms import EntryLevel, ErrorClass, RunStatus
from app.models.sync import RunEntry, SyncRun, entry_state
from app.sync_control import service as sync_control
from app.sync_settings.service import effective_settings
from app.users import repository as users_repository
from app.users.connection import MailboxConnection
from app.users.service import connection_for
from workers.connectors.ews.connection import (
    classify,
    is_authentication_failure,
    is_expected,
    open_account,
)
from workers.connectors.ews.transport import counting_requests
from workers.connectors.graph.mailbox import GraphMailbox
from workers.metrics import QUEUE_LAG, SYNC_DURATION, SYNC_ITEMS, SYNC_RUNS
from workers.sync.checkpoints import FolderCheckpoint, skipped_items
from workers.sync.core.journal import ActionKind, Journal
from workers.sync.core.sync_pass import sync_pass
from workers.sync.item_failures import DatabaseItemFailures
from workers.sync.links import DatabaseLinkStore
from workers.sync.progress import ProgressListener, RunProgress
from workers.sync.recording import finish_run, start_run
from workers.sync.run_log import log_run
from workers.sync.wiring import EntitySource, sources_for

_LEVELS = [EntryLevel.DEBUG, EntryLevel.INFO, EntryLevel.WARNING, EntryLevel.ERROR]


class UnknownSyncUser(LookupError):
    pass


@dataclass(frozen=True)
class RunRequest:
    user_id: int
    run_id: int | None = None
    trigger: str = "manual"
    # Hears every change of the run's progress (the CLI's progress bar).
    on_progress: ProgressListener | None = field(default=None, compare=False)


# Runs an administrator asked for explicitly go ahead even for a suspended or disabled user.
EXPLICIT_TRIGGERS = {"forced", "cli"}


@dataclass(frozen=True)
class RunOutcome:
    """How a recorded run ended: what the task decides retries from, and what the CLI shows."""

    run_id: int
    user_id: int
    status: RunStatus
    failure_kind: ErrorClass | None  # set when the run failed as a whole
    message: str | None
    counts: dict[str, Any]
    deletions_held: bool
    trigger: str = "manual"
    ews_requests: int = 0

    @property
    def retry_may_help(self) -> bool:
        return self.status is RunStatus.FAILED and self.failure_kind is ErrorClass.TRANSIENT

    @classmethod
    def of(cls, run: SyncRun) -> RunOutcome:
        return cls(
            run_id=run.id,
            user_id=run.user_id,
            status=RunStatus(run.status),
            failure_kind=ErrorClass(run.failure_kind) if run.failure_kind else None,
            message=run.message,
            counts=dict(run.counts),
            deletions_held=run.deletions_held,
            trigger=run.trigger,
            ews_requests=run.ews_requests or 0,
        )


@dataclass
class EntityOutcome:
    entity: str
    status: RunStatus
    journal: Journal
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
        if RunStatus.INTERRUPTED in statuses:
            return RunStatus.INTERRUPTED
        if statuses and statuses == {RunStatus.FAILED}:
            return RunStatus.FAILED
        if statuses - {RunStatus.SUCCESS}:
            return RunStatus.SUCCESS_WITH_ERRORS
        return RunStatus.SUCCESS

    def message(self) -> str | None:
        notes = [f"{o.entity}: {o.message}" for o in self.outcomes if o.message]
        return "; ".join(notes) or None


# A pass that wrote to Exchange is followed by another, which reads back crmsync's own writes as
# echoes (no action) and moves the stored sync state past them: Exchange need not report the
# later deletion of an item created after the state a client holds.
MAX_PASSES = 3


def sync_entity(
    db: Session,
    source: EntitySource,
    account: Any,
    run_id: int | None,
    progress: RunProgress,
    should_stop: Callable[[], bool] = lambda: False,
) -> EntityOutcome:
    """Synchronizes one entity, pass after pass until nothing more is written to Exchange."""
    outcome = EntityOutcome(source.entity, RunStatus.SUCCESS, Journal())
    for _ in range(MAX_PASSES):
        result = sync_pass(
            crm=source.crm_side(db),
            mailbox=source.gateway(account),
            links=DatabaseLinkStore(db, source.user_id, source.entity, run_id),
            checkpoint=FolderCheckpoint(db, source.user_id, source.entity),
            entity=source,
            journal=outcome.journal,
            crm_clock=crm_now,
            skipped=skipped_items(db, source.user_id, source.entity),
            failures=_item_failures(db, source),
            should_stop=should_stop,
            progress=progress.of(source.entity),
        )
        outcome.status = result.status
        guard = result.plan.guard
        if guard.tripped:
            outcome.deletions_held = True
            outcome.message = guard.reason
        if result.status is not RunStatus.SUCCESS or not result.wrote_mailbox:
            break
    progress.done(source.entity)
    return outcome


def _item_failures(db: Session, source: EntitySource) -> DatabaseItemFailures:
    settings = get_settings()
    return DatabaseItemFailures(
        db,
        source.user_id,
        source.entity,
        limit=settings.item_failure_limit,
        retry_base=timedelta(seconds=settings.item_retry_base_seconds),
        clock=utc_now,
    )


def _supersede_open_entries(db: Session, user_id: int, outcome: EntityOutcome) -> None:
    """An item that fails again keeps one open entry, this run's: earlier ones are closed."""
    for entry in outcome.journal.entries:
        if entry.level is not EntryLevel.ERROR or not (entry.crm_id or entry.remote_id):
            continue
        db.execute(
            update(RunEntry)
            .where(
                RunEntry.user_id == user_id,
                RunEntry.entity == outcome.entity,
                RunEntry.state == "open",
                RunEntry.crm_id.is_(None)
                if entry.crm_id is None
                else RunEntry.crm_id == entry.crm_id,
                RunEntry.remote_id.is_(None)
                if entry.remote_id is None
                else RunEntry.remote_id == entry.remote_id,
            )
            .values(state="superseded")
        )


def _entries(outcome: EntityOutcome, run: SyncRun, threshold: EntryLevel) -> Iterable[RunEntry]:
    minimum = _LEVELS.index(threshold)
    for entry in outcome.journal.entries:
        level = entry.level
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
            state=entry_state(level),
        )


def run_user_sync(request: RunRequest) -> RunOutcome:
    """Runs one synchronization of the user to the end, records it, and logs one line."""
    started = time.monotonic()
    with unit_of_work() as db:
        user = users_repository.get_sync_user(db, request.user_id)
        if user is None:
            raise UnknownSyncUser(f"no sync user {request.user_id}")
        crm_user = users_repository.get_crm_user(db, request.user_id)
        logon = crm_user.user_logon if crm_user else None
        run = start_run(db, request.user_id, request.run_id, request.trigger)
        run_id = run.id
        settings = effective_settings(db, request.user_id)
        connection = connection_for(user)
        stopped = _stopped_reason(user.suspended, user.enabled, user.suspended_reason)
        # The run row's trigger: a job carries only its run's id.
        explicit = run.trigger in EXPLICIT_TRIGGERS
    report = RunReport()
    failure: str | None = None
    failure_kind: ErrorClass | None = None
    error: Exception | None = None
    progress = RunProgress(run_id, [], request.on_progress)
    with counting_requests() as ews_requests:
        if stopped is not None and not explicit:
            failure = stopped
        else:
            account: Any = None
            try:
                account = open_mailbox(connection)
                with get_database().session_factory() as db:
                    for source in sources_for(request.user_id, settings, db):
                        if (
                            isinstance(account, GraphMailbox)
                            and source.entity not in account.entities
                        ):
                            report.outcomes.append(_not_over_graph(source.entity))
                            continue
                        report.outcomes.append(sync_entity(db, source, account, run_id, progress))
            except Exception as exc:  # noqa: BLE001 - classified, recorded and logged below
                error = exc
                failure_kind, failure = classify(exc)
            finally:
                if isinstance(account, GraphMailbox):
                    account.close()  # its HTTP connections; exchangelib pools its own
    with unit_of_work() as db:
        finished = db.get(SyncRun, run_id)
        assert finished is not None
        for outcome in report.outcomes:
            _supersede_open_entries(db, request.user_id, outcome)
            db.add_all(_entries(outcome, finished, settings.log_level))
        if failure is not None:
            db.add(
                RunEntry(
                    run_id=run_id,
                    user_id=request.user_id,
                    level=EntryLevel.ERROR,
                    message=failure,
                    state=entry_state(EntryLevel.ERROR),
                )
            )
        finished.ews_requests = ews_requests.value
        if error is None and failure is not None:
            status = RunStatus.INTERRUPTED  # not synchronized: the user's sync is stopped
        else:
            status = RunStatus.FAILED if failure else report.status()
        finish_run(
            finished,
            status,
            counts=report.counts(),
            message=failure or report.message(),
            deletions_held=any(o.deletions_held for o in report.outcomes),
        )
        finished.failure_kind = failure_kind.value if failure_kind else None
        finished.progress = progress.snapshot()
        if failure_kind is ErrorClass.PERMANENT and failure is not None and error is not None:
            sync_control.record_permanent_failure(
                db,
                request.user_id,
                failure,
                authentication=is_authentication_failure(error),
            )
        elif failure is None:
            sync_control.record_success(db, request.user_id)
        _observe(finished, report)
        ended = RunOutcome.of(finished)
    log_run(
        ended,
        logon=logon,
        duration_seconds=time.monotonic() - started,
        error=error,
        expected=error is None or is_expected(error),
    )
    return ended


def _stopped_reason(suspended: bool, enabled: bool, reason: str | None) -> str | None:
    if suspended:
        return f"not synchronized: the user's sync is suspended ({reason})"
    if not enabled:
        return "not synchronized: the user's sync is disabled"
    return None


def open_mailbox(connection: MailboxConnection) -> Any:
    """The mailbox as its connector reaches it: an exchangelib Account or a Graph mailbox."""
    if connection.graph_url is not None:
        return GraphMailbox(connection)
    return open_account(connection)


def _not_over_graph(entity: str) -> EntityOutcome:
    message = f"not synchronized over Microsoft Graph yet (connect this user over EWS for {entity})"
    outcome = EntityOutcome(entity, RunStatus.SUCCESS, Journal(), message=message)
    outcome.journal.log(EntryLevel.WARNING, ActionKind.SKIP, message)
    return outcome


def _observe(run: SyncRun, report: RunReport) -> None:
    SYNC_RUNS.labels(run.status).inc()
    if run.started_at is not None:
        QUEUE_LAG.observe(max((run.started_at - run.queued_at).total_seconds(), 0.0))
        if run.finished_at is not None:
            SYNC_DURATION.observe((run.finished_at - run.started_at).total_seconds())
    for outcome in report.outcomes:
        for (direction, kind), amount in outcome.journal.counts.items():
            SYNC_ITEMS.labels(outcome.entity, direction.value, kind.value).inc(amount)
