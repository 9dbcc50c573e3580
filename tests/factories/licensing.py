"""Licence seat helpers: seat settings, and sessions aged past their timeout."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.licensing import repository
from app.models.licensing import LicenseSession


def set_seats(db: Session, seats_total: int) -> None:
    repository.load_config(db, for_update=True).seats_total = seats_total
    db.flush()


def age_session(db: Session, session_id: str, minutes: int) -> None:
    """Moves a session's last sign of life `minutes` into the past, as if time had passed."""
    shift = timedelta(minutes=minutes)
    session = db.scalars(select(LicenseSession).where(LicenseSession.token == session_id)).one()
    session.started_at -= shift
    session.last_seen_at -= shift
    session.expires_at -= shift
    db.flush()
