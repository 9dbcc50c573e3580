from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.kit.sync_terms import EntryLevel
from app.models.sync import (
    Alert,
    ConflictStatus,
    FolderState,
    RunEntry,
    SyncConflict,
    SyncLink,
    SyncRun,
)


def latest_runs(db: Session, user_id: int, limit: int) -> list[SyncRun]:
    return list(
        db.scalars(
            select(SyncRun)
            .where(SyncRun.user_id == user_id)
            .order_by(SyncRun.id.desc())
            .limit(limit)
        )
    )


def count_open_errors(db: Session, user_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(RunEntry)
            .where(
                RunEntry.user_id == user_id,
                RunEntry.level == EntryLevel.ERROR,
                RunEntry.state == "open",
            )
        )
        or 0
    )


def count_open_conflicts(db: Session, user_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(SyncConflict)
            .where(SyncConflict.user_id == user_id, SyncConflict.status == ConflictStatus.OPEN)
        )
        or 0
    )


def forget_sync_state(db: Session, user_id: int) -> None:
    db.execute(delete(SyncLink).where(SyncLink.user_id == user_id))
    db.execute(delete(FolderState).where(FolderState.user_id == user_id))


def list_alerts(
    db: Session, *, user_id: int | None, open_only: bool, after_id: int | None, limit: int
) -> list[Alert]:
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(Alert.user_id == user_id)
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    if after_id is not None:
        query = query.where(Alert.id < after_id)
    return list(db.scalars(query))


def purge_runs_before(db: Session, user_id: int, cutoff: datetime) -> int:
    """Deletes the user's finished runs (and so their entries) queued before `cutoff`."""
    result = db.execute(
        delete(SyncRun).where(
            SyncRun.user_id == user_id,
            SyncRun.queued_at < cutoff,
            SyncRun.finished_at.is_not(None),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
