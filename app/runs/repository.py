from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.kit.sync_terms import EntryLevel, RunStatus
from app.models.sync import RunEntry, SyncRun


def get_run(db: Session, run_id: int) -> SyncRun | None:
    return db.get(SyncRun, run_id)


def list_runs(
    db: Session,
    *,
    user_id: int | None,
    status: RunStatus | None,
    after_id: int | None,
    limit: int,
) -> list[SyncRun]:
    # Newest first: the cursor walks towards older runs.
    query = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(SyncRun.user_id == user_id)
    if status is not None:
        query = query.where(SyncRun.status == status)
    if after_id is not None:
        query = query.where(SyncRun.id < after_id)
    return list(db.scalars(query))


def list_entries(
    db: Session,
    *,
    run_id: int | None = None,
    user_id: int | None = None,
    entity: str | None = None,
    levels: list[EntryLevel] | None = None,
    since: datetime | None = None,
    after_id: int | None,
    limit: int,
) -> list[RunEntry]:
    query = select(RunEntry).order_by(RunEntry.id).limit(limit)
    if run_id is not None:
        query = query.where(RunEntry.run_id == run_id)
    if user_id is not None:
        query = query.where(RunEntry.user_id == user_id)
    if entity is not None:
        query = query.where(RunEntry.entity == entity)
    if levels is not None:
        query = query.where(RunEntry.level.in_(levels))
    if since is not None:
        query = query.where(RunEntry.created_at >= since)
    if after_id is not None:
        query = query.where(RunEntry.id > after_id)
    return list(db.scalars(query))


def active_run(db: Session, user_id: int) -> SyncRun | None:
    return db.scalars(
        select(SyncRun)
        .where(
            SyncRun.user_id == user_id, SyncRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).one_or_none()


def delete_queued_run(db: Session, run_id: int) -> None:
    db.execute(delete(SyncRun).where(SyncRun.id == run_id, SyncRun.status == RunStatus.QUEUED))


def running_runs(db: Session) -> list[SyncRun]:
    return list(db.scalars(select(SyncRun).where(SyncRun.status == RunStatus.RUNNING)))
