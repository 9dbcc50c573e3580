"""Concurrent licence seats: opening, keeping alive and ending plugin and browser sessions.

A user holds one seat however many sessions they have open; the seat is freed only when the
last of them ends, explicitly or by timing out. Every change of seats runs under the row lock of
the configuration row (`SELECT … FOR UPDATE`), and the unique seat per user backs it up, so
concurrent requests can never hand out more seats than bought. Sessions past their expiry do
not count even before the sweeper has ended them: each seat change ends them first.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.crm_records.service import acting_crm_user
from app.db import on_commit
from app.kit.clock import utc_now
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.licensing import repository
from app.licensing.metrics import seats_in_use
from app.licensing.schemas import (
    LicenseSettings,
    LicensesRead,
    SessionHistoryRead,
    SessionOpen,
    SessionRead,
    UserSeatRead,
)
from app.models.licensing import (
    LicenseConfig,
    LicenseSeat,
    LicenseSession,
    SessionEnd,
    SessionKind,
)
from app.users import repository as users_repository


def to_read(session: LicenseSession) -> SessionRead:
    return SessionRead(
        session_id=session.token,
        user_id=session.user_id,
        kind=session.kind,
        started_at=session.started_at,
        expires_at=session.expires_at,
    )


def _timeout(config: LicenseConfig, kind: SessionKind) -> timedelta:
    minutes = (
        config.plugin_timeout_minutes
        if kind is SessionKind.PLUGIN
        else config.browser_timeout_minutes
    )
    return timedelta(minutes=minutes)


def _publish_seat_count(db: Session) -> None:
    held = repository.count_seats(db)
    on_commit(db, lambda: seats_in_use.publish(held))


def _settle(db: Session, now: datetime) -> int:
    """Ends sessions past their expiry and frees the seats nobody uses any more (under lock)."""
    ended = repository.end_expired_sessions(db, now)
    repository.release_idle_seats(db, now)
    _publish_seat_count(db)
    return ended


def open_session(db: Session, principal: Principal, body: SessionOpen) -> SessionRead:
    owner = acting_crm_user(db, principal, body.user_id)
    now = utc_now()
    config = repository.load_config(db, for_update=True)
    _settle(db, now)
    if repository.get_seat(db, owner) is None:
        if repository.count_seats(db) >= config.seats_total:
            raise Conflict(
                f"no licence seat is free: all {config.seats_total} concurrent seats are in use. "
                "A seat is freed when its user closes Outlook's crmsync pane and is logged off "
                "the CRM."
            )
        db.add(LicenseSeat(user_id=owner, allocated_at=now))
    session = LicenseSession(
        token=secrets.token_urlsafe(32),
        user_id=owner,
        kind=body.kind,
        started_at=now,
        last_seen_at=now,
        expires_at=now + _timeout(config, body.kind),
    )
    db.add(session)
    db.flush()
    _publish_seat_count(db)
    return to_read(session)


def _visible_session(
    db: Session, principal: Principal, session_id: str, *, for_update: bool
) -> LicenseSession:
    session = repository.find_session(db, session_id, for_update=for_update)
    if session is None or (not principal.is_admin and session.user_id != principal.user_id):
        raise NotFound("no licence session with that id")
    return session


def heartbeat(db: Session, principal: Principal, session_id: str) -> SessionRead:
    """Keeps a session alive: a plugin's heartbeat, or activity the CRM reports for a browser."""
    now = utc_now()
    session = _visible_session(db, principal, session_id, for_update=True)
    if session.ended_at is not None or session.expires_at <= now:
        raise Conflict("this licence session has ended (closed or timed out); open a new session")
    config = repository.load_config(db, for_update=False)
    session.last_seen_at = now
    session.expires_at = now + _timeout(config, session.kind)
    db.flush()
    return to_read(session)


def end_session(db: Session, principal: Principal, session_id: str) -> None:
    """Ends a session (ending it again is no error); its seat is freed if it was the last."""
    now = utc_now()
    repository.load_config(db, for_update=True)
    session = _visible_session(db, principal, session_id, for_update=True)
    if session.ended_at is None and session.expires_at > now:
        session.ended_at = now
        session.end_reason = SessionEnd.ENDED
        db.flush()
    _settle(db, now)


def sweep_expired_sessions(db: Session) -> int:
    """Ends every session past its expiry and frees idle seats; the scheduled job runs this."""
    repository.load_config(db, for_update=True)
    return _settle(db, utc_now())


def read_licenses(db: Session) -> LicensesRead:
    now = utc_now()
    config = repository.load_config(db, for_update=False)
    sessions_by_user: dict[int, list[SessionRead]] = defaultdict(list)
    for session in repository.live_sessions(db, now):
        sessions_by_user[session.user_id].append(to_read(session))
    seats = [s for s in repository.list_seats(db) if s.user_id in sessions_by_user]
    crm_users = users_repository.crm_users_by_id(db, [s.user_id for s in seats])
    users = [
        UserSeatRead(
            user_id=seat.user_id,
            logon=crm_users[seat.user_id].user_logon if seat.user_id in crm_users else None,
            allocated_at=seat.allocated_at,
            sessions=sessions_by_user[seat.user_id],
        )
        for seat in seats
    ]
    return LicensesRead(
        seats_total=config.seats_total,
        plugin_timeout_minutes=config.plugin_timeout_minutes,
        browser_timeout_minutes=config.browser_timeout_minutes,
        seats_in_use=len(users),
        users=users,
    )


def update_licenses(db: Session, body: LicenseSettings) -> LicensesRead:
    """Sets the seats and timeouts.

    Sessions already open go on working when the seats are lowered below those in use; new
    sessions are refused until enough end. A new timeout applies from each session's next
    heartbeat.
    """
    config = repository.load_config(db, for_update=True)
    config.seats_total = body.seats_total
    config.plugin_timeout_minutes = body.plugin_timeout_minutes
    config.browser_timeout_minutes = body.browser_timeout_minutes
    config.updated_at = utc_now()
    db.flush()
    return read_licenses(db)


def list_history(db: Session, user_id: int | None, page: PageRequest) -> Page[SessionHistoryRead]:
    sessions = repository.list_history(
        db, user_id=user_id, after_id=page.after_id, limit=page.limit + 1
    )
    items = [SessionHistoryRead.model_validate(s, from_attributes=True) for s in sessions]
    return make_page(items, [s.id for s in sessions], page)
