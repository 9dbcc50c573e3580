from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.deps import AdminPrincipal, DbSession
from app.exclusions import service
from app.exclusions.schemas import ExclusionCreate, ExclusionRule
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.sync_terms import SyncEntity
from app.kit.validation import DbId

router = APIRouter(prefix="/exclusions", tags=["exclusions"])


@router.get("")
def list_exclusions(
    db: DbSession,
    _admin: AdminPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    entity: SyncEntity | None = None,
) -> Page[ExclusionRule]:
    """Rules that keep matching CRM records out of synchronization."""
    return service.list_page(db, entity, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_exclusion(body: ExclusionCreate, db: DbSession, _admin: AdminPrincipal) -> ExclusionRule:
    """Add an exclusion rule; it applies from the next run."""
    return service.create_rule(db, body)


@router.delete("/{exclusion_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_exclusion(exclusion_id: DbId, db: DbSession, _admin: AdminPrincipal) -> Response:
    """Remove an exclusion rule."""
    service.delete_rule(db, exclusion_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
