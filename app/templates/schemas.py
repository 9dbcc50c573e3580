from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.kit.sync_terms import SyncEntity

TEMPLATE_SOURCE_LIMIT = 20_000


class TemplateWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(
        max_length=TEMPLATE_SOURCE_LIMIT,
        description="sandboxed Jinja2; plain text, no autoescaping; undefined names are errors",
    )


class TemplateRead(BaseModel):
    entity: SyncEntity
    template: str
    is_default: bool


class CompanyDetails(BaseModel):
    name: str | None = None
    phone: str | None = None
    website: str | None = None


class PersonDetails(BaseModel):
    salutation: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


class OpportunityDetails(BaseModel):
    description: str | None = None
    stage: str | None = None
    status: str | None = None


class CaseDetails(BaseModel):
    description: str | None = None
    status: str | None = None


class UserDetails(BaseModel):
    logon: str | None = None
    name: str | None = None


class DetailsContext(BaseModel):
    """What a details template may use; the engine fills in the records linked to the item."""

    company: CompanyDetails | None = None
    person: PersonDetails | None = None
    opportunity: OpportunityDetails | None = None
    case: CaseDetails | None = None
    user: UserDetails | None = None
