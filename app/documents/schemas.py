from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.filings.schemas import RecordRef
from app.kit.validation import DbId, smtp_address

MAX_DRAFT_DOCUMENTS = 20


class DocumentStatus(StrEnum):
    DRAFT = "Draft"
    FINAL = "Final"


class DocumentRead(BaseModel):
    id: int
    filename: str
    type: str | None = Field(description="Document, or EmailAttachment for a filed email's")
    status: str | None
    shared: bool = Field(description="libr_global: any user may attach it")
    size: int | None
    sha256: str | None
    record: RecordRef | None
    communication_id: int | None
    created: datetime | None = Field(description="in the CRM's time zone (crm_timezone setting)")


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_ids: list[DbId] = Field(min_length=1, max_length=MAX_DRAFT_DOCUMENTS)
    subject: str | None = Field(default=None, max_length=255)
    to: list[Annotated[str, AfterValidator(smtp_address)]] = Field(default=[], max_length=100)
    body: str | None = Field(default=None, max_length=100_000, description="plain text")
    reply_to_item_id: str | None = Field(
        default=None, max_length=1024, description="answer this email (a new reply draft)"
    )
    draft_item_id: str | None = Field(
        default=None, max_length=1024, description="attach to this existing draft instead"
    )
    user_id: DbId | None = Field(default=None, description="whose mailbox (admin keys only)")

    @model_validator(mode="after")
    def _one_kind_of_draft(self) -> Self:
        if self.reply_to_item_id and self.draft_item_id:
            raise ValueError("give reply_to_item_id or draft_item_id, not both")
        return self


class DraftCreated(BaseModel):
    item_id: str
