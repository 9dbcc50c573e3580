from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models.connections import Connection
from app.models.sync import FolderState, SyncLink, SyncUser


def find_by_name(db: Session, name: str) -> Connection | None:
    return db.scalars(
        select(Connection).where(func.lower(Connection.name) == name.lower())
    ).one_or_none()


def list_connections(db: Session, after_id: int | None, limit: int) -> list[Connection]:
    query = select(Connection).order_by(Connection.id).limit(limit)
    if after_id is not None:
        query = query.where(Connection.id > after_id)
    return list(db.scalars(query))


def user_counts(db: Session, connection_ids: list[int]) -> dict[int, int]:
    if not connection_ids:
        return {}
    rows = db.execute(
        select(SyncUser.connection_id, func.count())
        .where(SyncUser.connection_id.in_(connection_ids))
        .group_by(SyncUser.connection_id)
    )
    return {connection_id: count for connection_id, count in rows if connection_id is not None}


def first_mailbox(db: Session, connection_id: int) -> str | None:
    return db.scalars(
        select(SyncUser.mailbox)
        .where(SyncUser.connection_id == connection_id)
        .order_by(SyncUser.user_id)
        .limit(1)
    ).first()


def user_ids(db: Session, connection_id: int) -> list[int]:
    return list(db.scalars(select(SyncUser.user_id).where(SyncUser.connection_id == connection_id)))


def move_users(db: Session, from_id: int, to_id: int) -> None:
    db.execute(
        update(SyncUser).where(SyncUser.connection_id == from_id).values(connection_id=to_id)
    )


def forget_mailbox_state(db: Session, user_ids: list[int]) -> None:
    """Drops the users' links and folder states: item ids and sync states are per connector."""
    if not user_ids:
        return
    db.execute(delete(SyncLink).where(SyncLink.user_id.in_(user_ids)))
    db.execute(delete(FolderState).where(FolderState.user_id.in_(user_ids)))
