from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from app.runs.schemas import RunRead


class SyncState(StrEnum):
    IDLE = "idle"
    WAITING = "waiting"  # a run is queued
    IN_PROGRESS = "in_progress"
    SUSPENDED = "suspended"
    DISABLED = "disabled"


class UserStatus(BaseModel):
    user_id: int
    state: SyncState
    suspended_reason: str | None
    consecutive_failures: int
    last_run: RunRead | None
    next_sync_at: datetime
    open_errors: int
    open_conflicts: int


class AlertRead(BaseModel):
    id: int
    user_id: int | None
    kind: str
    message: str
    created_at: datetime
    acknowledged_at: datetime | None
