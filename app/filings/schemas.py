from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.crm_records.schemas import RecordEntity
from app.kit.validation import DbId

MAX_EMAILS_PER_CALL = 100
MAX_TARGETS = 50

ItemId = Annotated[str, Field(min_length=1, max_length=1024)]


class RecordRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: RecordEntity
    id: DbId


Targets = Annotated[list[RecordRef], Field(min_length=1, max_length=MAX_TARGETS)]
ItemIds = Annotated[list[ItemId], Field(min_length=1, max_length=MAX_EMAILS_PER_CALL)]


class FilingFromMailbox(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: ItemIds = Field(description="Exchange item ids of emails in the user's mailbox")
    targets: Targets = Field(description="the CRM records to file every email to")
    user_id: DbId | None = Field(
        default=None, description="whose mailbox (admin keys only); a user token files its own"
    )


class SuggestionsFromMailbox(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: ItemIds
    user_id: DbId | None = None


class FilingRead(BaseModel):
    source: str = Field(description="the item id or the uploaded file's name")
    communication_id: int
    message_id: str | None = Field(description="the email's Message-ID, when it has one")
    subject: str
    created: bool = Field(description="false when the email had been filed before")
    linked: list[RecordRef] = Field(description="the records this call newly linked it to")


class SuggestedRecord(BaseModel):
    entity: RecordEntity
    id: int
    label: str
    reasons: list[str]


class EmailSuggestions(BaseModel):
    source: str
    message_id: str | None
    subject: str
    records: list[SuggestedRecord]
