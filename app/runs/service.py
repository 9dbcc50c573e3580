"""Sync runs: queued by the API or the scheduler, executed by a worker, read by admins."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.db import on_commit
from app.kit import jobs, user_locks
from app.kit.clock import utc_now
from app.kit.errors import NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.kit.sync_terms import EntryLevel, RunStatus
from app.models.sync import RunEntry, SyncRun
from app.runs import repository
from app.runs.schemas import EntryRead, RunRead

SYNC_USER_TASK = "sync.user"
# The trigger of a run queued in place of one whose worker died.
RECOVERY_TRIGGER = "recovery"
ABANDONED_MESSAGE = "its worker stopped before the run finished"

_LEVEL_ORDER = [EntryLevel.DEBUG, EntryLevel.INFO, EntryLevel.WARNING, EntryLevel.ERROR]


def to_read(run: SyncRun) -> RunRead:
    return RunRead(
        run_id=run.id,
        user_id=run.user_id,
        status=run.status,
        trigger=run.trigger,
        queued_at=run.queued_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        counts=run.counts,
        message=run.message,
        failure_kind=run.failure_kind,
        deletions_held=run.deletions_held,
        ews_requests=run.ews_requests or 0,
        progress=run.progress,
    )


def entry_to_read(entry: RunEntry) -> EntryRead:
    return EntryRead.model_validate(entry, from_attributes=True)


def queue_run(db: Session, user_id: int, trigger: str) -> SyncRun:
    """Records a queued run and enqueues its job once this transaction commits.

    A run already queued or in progress for the user is returned instead of a second one.
    """
    run, new = record_queued_run(db, user_id, trigger)
    if new:
        run_id = run.id
        on_commit(db, lambda: _enqueue_or_withdraw(db, user_id, run_id))
    return run


def record_queued_run(db: Session, user_id: int, trigger: str) -> tuple[SyncRun, bool]:
    """The user's run already queued or in progress, or a new queued one (True), whose job
    the caller sends: the API through the broker, a retry through Celery's own retry."""
    existing = repository.active_run(db, user_id)
    if existing is not None and not _close_if_abandoned(db, existing):
        return existing, False
    run = SyncRun(user_id=user_id, status=RunStatus.QUEUED, trigger=trigger, counts={})
    db.add(run)
    db.flush()
    if existing is not None:
        _note_replacement(existing, run)
    return run, True


def _enqueue_or_withdraw(db: Session, user_id: int, run_id: int) -> None:
    """Enqueues the committed run's job; a run no job will carry out is deleted again.

    Left Queued, it would block the user's runs until its expiry for a job that never existed.
    """
    try:
        jobs.enqueue(SYNC_USER_TASK, user_id, run_id)
    except jobs.BrokerUnavailable:
        repository.delete_queued_run(db, run_id)
        db.commit()
        raise


def _close_if_abandoned(db: Session, run: SyncRun) -> bool:
    """Closes an active run no worker will carry out as Interrupted; True when it did."""
    if run.status == RunStatus.QUEUED:
        # Its job carried this expiry: no worker will ever take it now.
        if utc_now() - run.queued_at <= timedelta(seconds=jobs.DEFAULT_EXPIRY_SECONDS):
            return False
        _interrupt(run, "expired before a worker took it")
        return True
    return _close_if_dead(db, run)


def _close_if_dead(db: Session, run: SyncRun) -> bool:
    """Closes a Running run whose user's lock nobody holds: its worker died (see
    app.kit.user_locks). Locking the row first means a live worker cannot finish the run
    between the two reads: it writes its final status while still holding the user's lock."""
    db.refresh(run, with_for_update=True)
    if run.status != RunStatus.RUNNING or user_locks.is_held(run.user_id):
        return False
    _interrupt(run, ABANDONED_MESSAGE)
    return True


def _interrupt(run: SyncRun, message: str) -> None:
    run.status = RunStatus.INTERRUPTED
    run.finished_at = utc_now()
    run.message = message


def recover_if_dead(db: Session, run: SyncRun) -> SyncRun | None:
    """A Running run whose worker died is closed as Interrupted and a new run queued in its
    place, which is returned (None when the run is alive or over)."""
    if not _close_if_dead(db, run):
        return None
    replacement = queue_run(db, run.user_id, trigger=RECOVERY_TRIGGER)
    _note_replacement(run, replacement)
    return replacement


def _note_replacement(closed: SyncRun, replacement: SyncRun) -> None:
    closed.message = f"{closed.message}; run {replacement.id} replaces it"


def recover_dead_runs(db: Session) -> int:
    """The scheduler's sweep: every dead Running run recovered; returns how many."""
    return sum(recover_if_dead(db, run) is not None for run in repository.running_runs(db))


def read_while_waiting(db: Session, run_id: int) -> RunRead:
    """A run as a waiting caller sees it: one whose worker died ends the wait as Interrupted
    (and is replaced) rather than holding it until the wait's limit."""
    run = repository.get_run(db, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    if run.status == RunStatus.RUNNING:
        recover_if_dead(db, run)
    return to_read(run)


def get_visible_run(db: Session, principal: Principal, run_id: int) -> SyncRun:
    run = repository.get_run(db, run_id)
    if run is None or (not principal.is_admin and run.user_id != principal.user_id):
        raise NotFound(f"no run {run_id}")
    return run


def list_runs(
    db: Session,
    principal: Principal,
    *,
    user_id: int | None,
    status: RunStatus | None,
    page: PageRequest,
) -> Page[RunRead]:
    if not principal.is_admin:
        user_id = principal.user_id
    runs = repository.list_runs(
        db, user_id=user_id, status=status, after_id=page.after_id, limit=page.limit + 1
    )
    return make_page([to_read(r) for r in runs], [r.id for r in runs], page)


def list_entries(
    db: Session,
    principal: Principal,
    *,
    run_id: int | None = None,
    user_id: int | None = None,
    entity: str | None = None,
    min_level: EntryLevel | None = None,
    since: datetime | None = None,
    page: PageRequest,
) -> Page[EntryRead]:
    if run_id is not None:
        get_visible_run(db, principal, run_id)
    if not principal.is_admin:
        user_id = principal.user_id
    levels = _LEVEL_ORDER[_LEVEL_ORDER.index(min_level) :] if min_level else None
    entries = repository.list_entries(
        db,
        run_id=run_id,
        user_id=user_id,
        entity=entity,
        levels=levels,
        since=since,
        after_id=page.after_id,
        limit=page.limit + 1,
    )
    return make_page([entry_to_read(e) for e in entries], [e.id for e in entries], page)
