from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.kit.enums import CaseInsensitiveEnum
from app.kit.validation import DbId, smtp_address


class RecordEntity(CaseInsensitiveEnum):
    PERSON = "person"
    COMPANY = "company"
    OPPORTUNITY = "opportunity"
    CASE = "case"


class RecordRead(BaseModel):
    entity: RecordEntity
    id: int
    label: str
    detail: str | None


class PersonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, max_length=60)
    last_name: str = Field(min_length=1, max_length=60)
    email: Annotated[str, AfterValidator(smtp_address)]
    company_name: str | None = Field(
        default=None, max_length=255, description="links the live company of exactly this name"
    )
    title: str | None = Field(default=None, max_length=120, description="job title")
    user_id: DbId | None = Field(
        default=None,
        description="the user who flags the person; a user token flags for itself",
    )


class PersonCreated(RecordRead):
    company_id: int | None
    flagged_for_user_id: int
