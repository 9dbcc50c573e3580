from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.kit.sync_terms import EntryLevel, RunStatus


class RunRead(BaseModel):
    run_id: int
    user_id: int
    status: RunStatus
    trigger: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]
    message: str | None
    failure_kind: str | None = None
    deletions_held: bool


class RunQueued(BaseModel):
    run_id: int


class EntryRead(BaseModel):
    id: int
    run_id: int
    user_id: int
    entity: str | None
    level: EntryLevel
    action: str | None
    direction: str | None
    crm_id: str | None
    remote_id: str | None
    message: str
    state: str
    created_at: datetime
