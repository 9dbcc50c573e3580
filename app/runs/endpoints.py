from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.deps import CurrentPrincipal, DbSession
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.sync_terms import EntryLevel, RunStatus
from app.kit.validation import DbId
from app.runs import service
from app.runs.schemas import EntryRead, RunRead
from app.sync_settings.schemas import SyncEntity

router = APIRouter(tags=["runs and logs"])

Paging = Annotated[PageRequest, Depends(page_request)]


@router.get("/runs")
def list_runs(
    db: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    user_id: DbId | None = None,
    status: RunStatus | None = None,
) -> Page[RunRead]:
    """Sync runs, newest first; a user token sees its own. `status` accepts any letter case."""
    return service.list_runs(db, principal, user_id=user_id, status=status, page=page)


@router.get("/runs/{run_id}")
def get_run(run_id: DbId, db: DbSession, principal: CurrentPrincipal) -> RunRead:
    """One run: status, counts per entity and direction, EWS requests, and while it runs its
    progress per entity (listed, planned, applied)."""
    return service.to_read(service.get_visible_run(db, principal, run_id))


@router.get("/runs/{run_id}/entries")
def run_entries(
    run_id: DbId, db: DbSession, principal: CurrentPrincipal, page: Paging
) -> Page[EntryRead]:
    """The item-level log of one run."""
    return service.list_entries(db, principal, run_id=run_id, page=page)


@router.get("/log-entries")
def log_entries(
    db: DbSession,
    principal: CurrentPrincipal,
    page: Paging,
    user_id: DbId | None = None,
    entity: Annotated[SyncEntity | None, Query(description="entries of this entity")] = None,
    level: Annotated[EntryLevel | None, Query(description="this level and above")] = None,
    since: datetime | None = None,
) -> Page[EntryRead]:
    """Item-level log entries across runs, filtered by user, entity, minimum level and time."""
    return service.list_entries(
        db,
        principal,
        user_id=user_id,
        entity=entity.value if entity else None,
        min_level=level,
        since=since,
        page=page,
    )
