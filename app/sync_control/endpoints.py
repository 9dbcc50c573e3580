from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, status

from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.validation import DbId, UserRef
from app.runs.schemas import EntryRead, RunQueued
from app.sync_control import service
from app.sync_control.schemas import AlertRead, UserStatus

router = APIRouter(tags=["sync control"])


@router.get("/users/{user_id}/status")
def get_status(user_id: UserRef, db: DbSession, principal: CurrentPrincipal) -> UserStatus:
    """What the user's sync is doing: state, suspension reason, last run, next sync, open errors
    and conflicts."""
    return service.user_status(db, principal.resolve_user(user_id))


@router.post("/users/{user_id}/suspend")
def suspend(
    user_id: UserRef,
    db: DbSession,
    principal: AdminPrincipal,
    reason: Annotated[str, Body(embed=True, max_length=500)] = "suspended by an administrator",
) -> UserStatus:
    """Suspend the user's sync with a reason, until resumed."""
    return service.suspend(db, principal.resolve_user(user_id), reason)


@router.post("/users/{user_id}/resume")
def resume(user_id: UserRef, db: DbSession, principal: AdminPrincipal) -> UserStatus:
    """Resume a suspended user: failures are forgotten, open alerts acknowledged, and the user
    is due at once."""
    return service.resume(db, principal.resolve_user(user_id))


@router.post("/users/{user_id}/reset", status_code=status.HTTP_202_ACCEPTED)
def reset(user_id: UserRef, db: DbSession, principal: AdminPrincipal) -> RunQueued:
    """Forget the user's links and sync states and queue a run that compares and relinks
    everything, without duplicates."""
    return service.reset(db, principal.resolve_user(user_id))


@router.get("/alerts")
def list_alerts(
    db: DbSession,
    _admin: AdminPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    user_id: DbId | None = None,
    open_only: bool = True,
) -> Page[AlertRead]:
    """Alerts for administrators (suspensions, repeated authentication failures), open ones by
    default."""
    return service.list_alerts(db, user_id=user_id, open_only=open_only, page=page)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(alert_id: DbId, db: DbSession, _admin: AdminPrincipal) -> AlertRead:
    """Mark an alert as seen."""
    return service.acknowledge_alert(db, alert_id)


@router.post("/log-entries/{entry_id}/retry", status_code=status.HTTP_202_ACCEPTED)
def retry_entry(entry_id: DbId, db: DbSession, principal: CurrentPrincipal) -> RunQueued:
    """Retry the item of an error or warning entry in a new run; informational entries answer
    409."""
    return service.retry_entry(db, principal, entry_id)


@router.post("/log-entries/{entry_id}/skip")
def skip_entry(entry_id: DbId, db: DbSession, principal: CurrentPrincipal) -> EntryRead:
    """Leave the item of an error or warning entry out of later runs, until retried;
    informational entries answer 409."""
    return service.skip_entry(db, principal, entry_id)
