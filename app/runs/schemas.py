from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.kit.sync_terms import EntryLevel, RunStatus


class EntityProgress(BaseModel):
    phase: str = Field(description="waiting, listing, applying or done")
    listed: int = Field(description="changes read from both sides")
    planned: int = Field(description="actions to apply")
    applied: int = Field(description="actions applied so far, of `planned`")


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
    ews_requests: int = Field(default=0, description="requests sent to Exchange by the run")
    progress: dict[str, EntityProgress] | None = Field(
        default=None,
        description="per entity, while running (updated every few seconds) and as it ended",
    )


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
