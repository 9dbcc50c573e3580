from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.kit.validation import DbId
from app.models.licensing import SessionEnd, SessionKind


class SessionOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SessionKind
    user_id: DbId | None = Field(
        default=None,
        description="whose session; a user token opens only its own, an admin key must name one",
    )


class SessionRead(BaseModel):
    session_id: str
    user_id: int
    kind: SessionKind
    started_at: datetime
    expires_at: datetime


class UserSeatRead(BaseModel):
    user_id: int
    logon: str | None
    allocated_at: datetime
    sessions: list[SessionRead]


class LicenseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seats_total: int = Field(ge=0, le=100_000, description="concurrent seats bought")
    plugin_timeout_minutes: int = Field(
        ge=1, le=1440, description="a plugin session ends this long after its last heartbeat"
    )
    browser_timeout_minutes: int = Field(
        ge=1, le=1440, description="a browser session ends this long after its last activity"
    )


class LicensesRead(LicenseSettings):
    seats_in_use: int
    users: list[UserSeatRead]


class SessionHistoryRead(BaseModel):
    id: int
    user_id: int
    kind: SessionKind
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    end_reason: SessionEnd | None
