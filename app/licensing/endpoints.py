from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from app.db import commit
from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.validation import DbId
from app.licensing import service
from app.licensing.schemas import (
    LicenseSettings,
    LicensesRead,
    SessionHistoryRead,
    SessionOpen,
    SessionRead,
)

router = APIRouter(tags=["licence seats"])

# The endpoints that take the seat lock commit before they return, in the worker thread that
# holds the lock. Waiting for the lock occupies a worker thread; were the commit left to the
# request dependency's teardown, it would need another, and a burst of requests could occupy
# every thread waiting for a lock whose holder waits for a thread.

_NO_SEAT: dict[int | str, dict[str, Any]] = {
    409: {"description": "no licence seat is free; `detail` names the limit"}
}


@router.post("/sessions", status_code=status.HTTP_201_CREATED, responses=_NO_SEAT)
def open_session(body: SessionOpen, db: DbSession, principal: CurrentPrincipal) -> SessionRead:
    """Take a licence seat for a plugin or browser session (409 when none is free)."""
    opened = service.open_session(db, principal, body)
    commit(db)
    return opened


@router.post("/sessions/{session_id}/heartbeat")
def heartbeat(session_id: str, db: DbSession, principal: CurrentPrincipal) -> SessionRead:
    """Keep a session's seat; a session without heartbeats ends after its timeout."""
    return service.heartbeat(db, principal, session_id)


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def end_session(session_id: str, db: DbSession, principal: CurrentPrincipal) -> Response:
    """End a session and free its seat."""
    service.end_session(db, principal, session_id)
    commit(db)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/licenses")
def read_licenses(db: DbSession, _admin: AdminPrincipal) -> LicensesRead:
    """Seats in total and in use, and who holds them."""
    return service.read_licenses(db)


@router.put("/licenses")
def update_licenses(body: LicenseSettings, db: DbSession, _admin: AdminPrincipal) -> LicensesRead:
    """Set the number of seats and the session timeouts."""
    updated = service.update_licenses(db, body)
    commit(db)
    return updated


@router.get("/licenses/history")
def license_history(
    db: DbSession,
    _admin: AdminPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    user_id: DbId | None = None,
) -> Page[SessionHistoryRead]:
    """Sessions opened and ended, newest first."""
    return service.list_history(db, user_id, page)
