from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.kit.sync_policy import Direction


class FieldMapping(BaseModel):
    """One field kept in step between a CRM path and an Outlook field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crm: str = Field(min_length=1, max_length=64, description="CRM column or path")
    outlook: str = Field(min_length=1, max_length=64, description="Outlook field")
    direction: Direction = Direction.BOTH


class OutlookTaskStatus(StrEnum):
    """exchangelib's task status values."""

    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    WAITING_ON_OTHERS = "WaitingOnOthers"
    DEFERRED = "Deferred"


class CrmTaskStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In Progress"
    COMPLETE = "Complete"
    CANCELLED = "Cancelled"


def _covers_every(statuses: type[StrEnum], keys: Collection[StrEnum]) -> None:
    missing = [status.value for status in statuses if status not in keys]
    if missing:
        raise ValueError(f"every status needs a mapping; missing: {', '.join(missing)}")


class TaskStatusMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    to_crm: dict[OutlookTaskStatus, CrmTaskStatus] = Field(
        description="Outlook status → CRM comm_status, for every Outlook status"
    )
    to_outlook: dict[CrmTaskStatus, OutlookTaskStatus] = Field(
        description="CRM comm_status → Outlook status, for every CRM status"
    )

    @field_validator("to_crm")
    @classmethod
    def _every_outlook_status(
        cls, value: dict[OutlookTaskStatus, CrmTaskStatus]
    ) -> dict[OutlookTaskStatus, CrmTaskStatus]:
        _covers_every(OutlookTaskStatus, value.keys())
        return value

    @field_validator("to_outlook")
    @classmethod
    def _every_crm_status(
        cls, value: dict[CrmTaskStatus, OutlookTaskStatus]
    ) -> dict[CrmTaskStatus, OutlookTaskStatus]:
        _covers_every(CrmTaskStatus, value.keys())
        return value
