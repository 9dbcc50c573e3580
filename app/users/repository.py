from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.crm import User, live
from app.models.sync import SyncUser


def find_crm_user_by_logon(db: Session, logon: str) -> User | None:
    return db.scalars(
        select(User).where(
            func.lower(User.user_logon) == logon.lower(),
            live(User),
        )
    ).one_or_none()


def get_crm_user(db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def crm_users_by_id(db: Session, user_ids: list[int]) -> dict[int, User]:
    if not user_ids:
        return {}
    return {
        u.user_userid: u for u in db.scalars(select(User).where(User.user_userid.in_(user_ids)))
    }


def get_sync_user(db: Session, user_id: int) -> SyncUser | None:
    return db.get(SyncUser, user_id)


def get_sync_user_for_update(db: Session, user_id: int) -> SyncUser | None:
    return db.scalars(
        select(SyncUser).where(SyncUser.user_id == user_id).with_for_update()
    ).one_or_none()


def find_sync_user_by_mailbox(db: Session, mailbox: str) -> SyncUser | None:
    return db.scalars(
        select(SyncUser).where(func.lower(SyncUser.mailbox) == mailbox.lower())
    ).one_or_none()


def list_sync_users(db: Session, after_id: int | None, limit: int) -> list[SyncUser]:
    query = select(SyncUser).order_by(SyncUser.user_id).limit(limit)
    if after_id is not None:
        query = query.where(SyncUser.user_id > after_id)
    return list(db.scalars(query))
