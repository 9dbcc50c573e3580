"""Concurrent licence seats: the seat configuration, the seats users hold, and their sessions.

A user holds at most one seat (the unique user id of `crmsync_license_seat`) however many
sessions they have open; the seat is released when their last live session ends. Every seat
change happens under a row lock on the single configuration row, so concurrent requests
cannot over-allocate.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import ServiceTable, UtcDateTime, utc_timestamp_column

LICENSE_CONFIG_ID = 1
# Five seats until an administrator sets the number bought; a plugin session lives five minutes
# past its last heartbeat (the add-in beats every minute, so four can be lost); a browser session
# twenty minutes past its last activity, Sage CRM's default session timeout.
DEFAULT_SEATS_TOTAL = 5
DEFAULT_PLUGIN_TIMEOUT_MINUTES = 5
DEFAULT_BROWSER_TIMEOUT_MINUTES = 20


class SessionKind(StrEnum):
    PLUGIN = "plugin"  # the Outlook add-in's task pane
    BROWSER = "browser"  # a CRM logon in a browser, reported by the CRM


class SessionEnd(StrEnum):
    ENDED = "ended"  # closed explicitly (the pane closed, the CRM user logged off)
    EXPIRED = "expired"  # no heartbeat or activity within the kind's timeout


class LicenseConfig(ServiceTable):
    """The single row every seat change locks (`SELECT … FOR UPDATE`)."""

    __tablename__ = "crmsync_license_config"
    __table_args__ = (CheckConstraint(f"id = {LICENSE_CONFIG_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seats_total: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_SEATS_TOTAL)
    plugin_timeout_minutes: Mapped[int] = mapped_column(
        Integer, nullable=False, default=DEFAULT_PLUGIN_TIMEOUT_MINUTES
    )
    browser_timeout_minutes: Mapped[int] = mapped_column(
        Integer, nullable=False, default=DEFAULT_BROWSER_TIMEOUT_MINUTES
    )
    updated_at: Mapped[datetime] = utc_timestamp_column()


class LicenseSeat(ServiceTable):
    """A seat held by a user: present while the user has at least one live session."""

    __tablename__ = "crmsync_license_seat"

    # users.user_userid, unique by being the key; no foreign key, the CRM may be elsewhere.
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    allocated_at: Mapped[datetime] = utc_timestamp_column()


class LicenseSession(ServiceTable):
    """A plugin or browser session; ended rows stay as the history of seat use."""

    __tablename__ = "crmsync_license_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The id clients see: random, so a session cannot be guessed and ended by someone else.
    token: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    kind: Mapped[SessionKind] = mapped_column(String(16), nullable=False)
    started_at: Mapped[datetime] = utc_timestamp_column()
    last_seen_at: Mapped[datetime] = utc_timestamp_column()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    end_reason: Mapped[SessionEnd | None] = mapped_column(String(16))
