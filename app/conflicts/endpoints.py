from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.conflicts import service
from app.conflicts.schemas import ConflictRead, ConflictResolve
from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.sync_terms import SyncEntity
from app.kit.validation import DbId
from app.models.sync import ConflictStatus
from app.runs.schemas import RunQueued

router = APIRouter(tags=["conflicts"])


@router.get("/conflicts")
def list_conflicts(
    db: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    user_id: DbId | None = None,
    status: ConflictStatus | None = None,
    entity: SyncEntity | None = None,
) -> Page[ConflictRead]:
    """Fields changed on both sides, with both values and the outcome; a user token sees its
    own."""
    return service.list_conflicts(
        db, principal, user_id=user_id, status=status, entity=entity, page=page
    )


@router.get("/conflicts/{conflict_id}")
def get_conflict(conflict_id: DbId, db: DbSession, principal: CurrentPrincipal) -> ConflictRead:
    """One conflict: the field, both sides' values before sync, the base and the value applied."""
    return service.to_read(service.get_visible_conflict(db, principal, conflict_id))


@router.post("/conflicts/{conflict_id}/resolve")
def resolve_conflict(
    conflict_id: DbId, body: ConflictResolve, db: DbSession, principal: CurrentPrincipal
) -> ConflictRead:
    """Writes the chosen side's value to both sides on the next run; may be re-applied."""
    return service.resolve(db, principal, conflict_id, body)


@router.post("/runs/{run_id}/confirm-deletions", status_code=status.HTTP_202_ACCEPTED)
def confirm_deletions(run_id: DbId, db: DbSession, principal: AdminPrincipal) -> RunQueued:
    """Lets the deletions the mass-deletion guard held back go, on a newly queued run."""
    return service.confirm_deletions(db, principal, run_id)
