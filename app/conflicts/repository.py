from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.sync import ConflictStatus, FolderState, SyncConflict, SyncLink


def get_conflict(db: Session, conflict_id: int) -> SyncConflict | None:
    return db.get(SyncConflict, conflict_id)


def list_conflicts(
    db: Session,
    *,
    user_id: int | None,
    status: ConflictStatus | None,
    entity: str | None,
    after_id: int | None,
    limit: int,
) -> list[SyncConflict]:
    # Newest first: the cursor walks towards older conflicts.
    query = select(SyncConflict).order_by(SyncConflict.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(SyncConflict.user_id == user_id)
    if status is not None:
        query = query.where(SyncConflict.status == status)
    if entity is not None:
        query = query.where(SyncConflict.entity == entity)
    if after_id is not None:
        query = query.where(SyncConflict.id < after_id)
    return list(db.scalars(query))


def get_link_for_update(db: Session, user_id: int, entity: str, crm_id: str) -> SyncLink | None:
    return db.scalars(
        select(SyncLink)
        .where(SyncLink.user_id == user_id, SyncLink.entity == entity, SyncLink.crm_id == crm_id)
        .with_for_update()
    ).one_or_none()


def count_open_conflicts(db: Session, user_id: int, entity: str, crm_id: str) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(SyncConflict)
            .where(
                SyncConflict.user_id == user_id,
                SyncConflict.entity == entity,
                SyncConflict.crm_id == crm_id,
                SyncConflict.status == ConflictStatus.OPEN,
            )
        )
        or 0
    )


def get_folder_state(db: Session, user_id: int, entity: str) -> FolderState | None:
    return db.get(FolderState, (user_id, entity))
