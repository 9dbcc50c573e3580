from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.kit.sync_terms import SyncEntity
from app.models.sync import ConflictStatus


class ConflictSide(StrEnum):
    CRM = "crm"
    OUTLOOK = "outlook"


class ConflictRead(BaseModel):
    id: int
    user_id: int
    run_id: int | None
    entity: SyncEntity
    crm_id: str
    remote_id: str | None
    field: str
    crm_value: JsonValue = Field(description="the CRM's value before the sync")
    outlook_value: JsonValue = Field(description="Outlook's value before the sync")
    base_value: JsonValue = Field(description="the value both sides last agreed on")
    applied: str = Field(description="whose value the item ended with: crm, outlook, nothing …")
    decided_by: str
    status: ConflictStatus
    created_at: datetime
    resolved_at: datetime | None


class ConflictResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apply: ConflictSide
