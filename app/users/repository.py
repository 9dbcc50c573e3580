from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from app.models.crm import User, live
from app.models.sync import RunStatus, SyncRun, SyncUser
from app.users.schemas import UserHealth

FINISHED_RUN_STATUSES = (
    RunStatus.SUCCESS,
    RunStatus.SUCCESS_WITH_ERRORS,
    RunStatus.FAILED,
    RunStatus.INTERRUPTED,
)


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


def sync_users_with_health(
    db: Session,
    *,
    user_id: int | None = None,
    health: UserHealth | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[tuple[SyncUser, UserHealth]]:
    """Sync users in id order with their health, judged in SQL so that it can filter."""
    last_finished = (
        select(SyncRun.user_id, func.max(SyncRun.id).label("run_id"))
        .where(SyncRun.status.in_(FINISHED_RUN_STATUSES))
        .group_by(SyncRun.user_id)
        .subquery()
    )
    last_run = aliased(SyncRun)
    user_health: ColumnElement[str] = case(
        (SyncUser.enabled.is_(False), UserHealth.DISABLED.value),
        (SyncUser.suspended.is_(True), UserHealth.SUSPENDED.value),
        (last_run.id.is_(None), UserHealth.NEVER.value),
        (last_run.status == RunStatus.SUCCESS, UserHealth.HEALTHY.value),
        else_=UserHealth.ERRORS.value,
    )
    query = (
        select(SyncUser, user_health)
        .outerjoin(last_finished, last_finished.c.user_id == SyncUser.user_id)
        .outerjoin(last_run, last_run.id == last_finished.c.run_id)
        .order_by(SyncUser.user_id)
    )
    if user_id is not None:
        query = query.where(SyncUser.user_id == user_id)
    if health is not None:
        query = query.where(user_health == health.value)
    if after_id is not None:
        query = query.where(SyncUser.user_id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return [(user, UserHealth(value)) for user, value in db.execute(query)]
