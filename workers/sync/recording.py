"""Recording runs: a run row moves Queued → Running → a final status, with counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app.db import unit_of_work
from app.kit.clock import utc_now
from app.kit.sync_terms import RunStatus
from app.models.sync import SyncRun
from app.ops import counters as stored_counters
from app.runs.service import ABANDONED_MESSAGE, record_queued_run


def start_run(db: Session, user_id: int, run_id: int | None, trigger: str) -> SyncRun:
    """Marks the job's queued run as running, or records a new run.

    Called under the user's lock, so a run of the user still marked Running belongs to a worker
    that died mid-run: it is closed as Interrupted. When the job carries such a run (the broker
    redelivered the dead worker's job) or an already finished one (a job delivered twice), the
    redo is recorded as a run of its own. CLI runs are never queued, so they are new too.
    """
    for abandoned in db.scalars(
        select(SyncRun).where(SyncRun.user_id == user_id, SyncRun.status == RunStatus.RUNNING)
    ).all():
        finish_run(abandoned, RunStatus.INTERRUPTED, abandoned.counts, ABANDONED_MESSAGE)
    job_run = db.get(SyncRun, run_id) if run_id is not None else None
    run = job_run
    if run is None or run.status != RunStatus.QUEUED:
        # A redo keeps the trigger of the run it redoes.
        run = SyncRun(user_id=user_id, trigger=job_run.trigger if job_run else trigger, counts={})
        db.add(run)
    run.status = RunStatus.RUNNING
    run.started_at = utc_now()
    db.flush()
    return run


def finish_run(
    run: SyncRun,
    status: RunStatus,
    counts: dict[str, Any],
    message: str | None,
    *,
    deletions_held: bool = False,
) -> None:
    """Closes the run, and adds it to the stored totals in the same transaction."""
    run.status = status
    run.counts = counts
    run.message = message
    run.deletions_held = deletions_held
    run.finished_at = utc_now()
    db = object_session(run)
    assert db is not None, "a run is finished within the session that loaded it"
    stored_counters.add(db, stored_counters.run_samples(status, counts, run.ews_requests or 0))


def close_skipped_run(run_id: int, reason: str) -> RunStatus | None:
    """Closes a queued run that will not execute, or no run could be queued again.

    Returns the run's status afterwards (None when it is gone): Running means another job is
    carrying it out, or was until its worker died.
    """
    with unit_of_work() as db:
        run = db.get(SyncRun, run_id)
        if run is None:
            return None
        if run.status == RunStatus.QUEUED:
            finish_run(run, RunStatus.INTERRUPTED, counts={}, message=f"skipped: {reason}")
        return RunStatus(run.status)


def queue_retry_run(user_id: int) -> int:
    """Records the queued run a retry of a transiently failed run will carry out (or the run
    already queued for the user meanwhile, which the retry then carries out)."""
    with unit_of_work() as db:
        run, _ = record_queued_run(db, user_id, "retry")
        return run.id
