from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models.licensing import (
    LICENSE_CONFIG_ID,
    LicenseConfig,
    LicenseSeat,
    LicenseSession,
    SessionEnd,
)


def _live(now: datetime) -> ColumnElement[bool]:
    return LicenseSession.ended_at.is_(None) & (LicenseSession.expires_at > now)


def load_config(db: Session, *, for_update: bool) -> LicenseConfig:
    """The configuration row, created with the defaults on first use.

    With `for_update`, the row stays locked until the transaction ends: every seat change takes
    this lock first, so seat changes happen one at a time.
    """
    query = select(LicenseConfig).where(LicenseConfig.id == LICENSE_CONFIG_ID)
    if for_update:
        query = query.with_for_update()
    config = db.scalars(query).one_or_none()
    if config is not None:
        return config
    try:
        with db.begin_nested():
            db.add(LicenseConfig(id=LICENSE_CONFIG_ID))
    except IntegrityError:
        pass  # a concurrent request created it first; the select below waits for its lock
    return db.scalars(query).one()


def count_live_seats(db: Session, now: datetime) -> int:
    """Users with at least one live session: the seats in use, even before a sweep."""
    users = select(func.count(func.distinct(LicenseSession.user_id))).where(_live(now))
    return db.scalar(users) or 0


def count_seats(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(LicenseSeat)) or 0


def get_seat(db: Session, user_id: int) -> LicenseSeat | None:
    return db.get(LicenseSeat, user_id)


def list_seats(db: Session) -> list[LicenseSeat]:
    return list(db.scalars(select(LicenseSeat).order_by(LicenseSeat.user_id)))


def find_session(db: Session, token: str, *, for_update: bool = False) -> LicenseSession | None:
    query = select(LicenseSession).where(LicenseSession.token == token)
    if for_update:
        query = query.with_for_update()
    return db.scalars(query).one_or_none()


def live_sessions(db: Session, now: datetime) -> list[LicenseSession]:
    return list(db.scalars(select(LicenseSession).where(_live(now)).order_by(LicenseSession.id)))


def has_live_session(db: Session, user_id: int, now: datetime) -> bool:
    return bool(db.scalar(select(exists().where(LicenseSession.user_id == user_id, _live(now)))))


def end_expired_sessions(db: Session, now: datetime) -> int:
    result = db.execute(
        update(LicenseSession)
        .where(LicenseSession.ended_at.is_(None), LicenseSession.expires_at <= now)
        .values(ended_at=LicenseSession.expires_at, end_reason=SessionEnd.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release_idle_seats(db: Session, now: datetime) -> int:
    """Deletes the seats of users who have no live session left."""
    holder_is_live = exists().where(LicenseSession.user_id == LicenseSeat.user_id, _live(now))
    result = db.execute(
        delete(LicenseSeat).where(~holder_is_live).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_history(
    db: Session, *, user_id: int | None, after_id: int | None, limit: int
) -> list[LicenseSession]:
    # Newest first: the cursor walks towards older sessions.
    query = select(LicenseSession).order_by(LicenseSession.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(LicenseSession.user_id == user_id)
    if after_id is not None:
        query = query.where(LicenseSession.id < after_id)
    return list(db.scalars(query))
