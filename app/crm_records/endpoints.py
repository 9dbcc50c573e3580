from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.crm_records import service
from app.crm_records.schemas import PersonCreate, PersonCreated, RecordEntity, RecordRead
from app.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/crm", tags=["CRM records"])


@router.get("/search")
def search_records(
    db: DbSession,
    _principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=100, description="text to look for")],
    entity: Annotated[RecordEntity | None, Query(description="only this kind of record")] = None,
) -> list[RecordRead]:
    """Live persons (name, email), companies (name), opportunities and cases (description);
    at most 25, taken from each kind in turn."""
    return service.search(db, q, entity)


@router.post("/persons", status_code=status.HTTP_201_CREATED)
def add_person(body: PersonCreate, db: DbSession, principal: CurrentPrincipal) -> PersonCreated:
    """Create a CRM person (with company, email and phone) from the add-in, flagged for the
    user."""
    return service.add_person(db, principal, body)
