"""Recording runs: a run row moves Queued → Running → a final status, with counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db import unit_of_work
from app.kit.clock import utc_now
from app.models.sync import RunStatus, SyncRun


def start_run(db: Session, user_id: int, run_id: int | None, trigger: str) -> SyncRun:
    """Marks the queued run as running, or records a new one (CLI runs are never queued)."""
    run = db.get(SyncRun, run_id) if run_id is not None else None
    if run is None:
        run = SyncRun(user_id=user_id, status=RunStatus.RUNNING, trigger=trigger, counts={})
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
    run.status = status
    run.counts = counts
    run.message = message
    run.deletions_held = deletions_held
    run.finished_at = utc_now()


def close_skipped_run(run_id: int, reason: str) -> None:
    """A queued run that will not execute must not stay queued, or no run could be queued again."""
    with unit_of_work() as db:
        run = db.get(SyncRun, run_id)
        if run is not None and run.status == RunStatus.QUEUED:
            finish_run(run, RunStatus.INTERRUPTED, counts={}, message=f"skipped: {reason}")


def queue_retry_run(user_id: int) -> int:
    """Records the queued run a retry of a transiently failed run will carry out."""
    with unit_of_work() as db:
        run = SyncRun(user_id=user_id, status=RunStatus.QUEUED, trigger="retry", counts={})
        db.add(run)
        db.flush()
        return run.id
