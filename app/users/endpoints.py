from __future__ import annotations

import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth.service import Principal
from app.db import Database, commit, unit_of_work
from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.kit.caller_slots import CallerSlots
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.sync_terms import RunStatus
from app.kit.validation import UserRef
from app.runs import service as runs_service
from app.runs.schemas import RunQueued, RunRead
from app.users import service
from app.users.connection import MailboxProbe
from app.users.schemas import (
    ConnectionTestRead,
    SyncUserCreate,
    SyncUserRead,
    SyncUserUpdate,
    UserHealth,
)

router = APIRouter(prefix="/users", tags=["sync users"])

_FINISHED = {
    RunStatus.SUCCESS,
    RunStatus.SUCCESS_WITH_ERRORS,
    RunStatus.FAILED,
    RunStatus.INTERRUPTED,
}
_WAIT_LIMIT_SECONDS = 300
_POLL_SECONDS = 0.5


@router.get("")
def list_users(
    db: DbSession,
    _admin: AdminPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    logon: Annotated[
        str | None, Query(min_length=1, max_length=64, description="this CRM logon only")
    ] = None,
    status: Annotated[UserHealth | None, Query(description="only users in this state")] = None,
) -> Page[SyncUserRead]:
    """The users enabled for sync, with their status (healthy, errors, suspended, never,
    disabled) and next scheduled sync; filter by logon or status."""
    return service.list_sync_users(db, page, logon=logon, health=status)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(
    body: SyncUserCreate, request: Request, db: DbSession, _admin: AdminPrincipal
) -> SyncUserRead:
    """Enable a CRM user for sync (creating the users row when missing). The mailbox connection
    is tested first and nothing is saved when it fails, unless `check_connection` is false."""
    if body.check_connection:
        service.check_new_connection(db, body, request.app.state.mailbox_probe)
    return service.create_sync_user(db, body)


@router.get("/{user_id}")
def get_user(user_id: UserRef, db: DbSession, principal: CurrentPrincipal) -> SyncUserRead:
    """One sync user: mailbox, connection, status and next scheduled sync; secrets are never
    returned."""
    return service.read_sync_user(db, principal.resolve_user(user_id))


@router.patch("/{user_id}")
def update_user(
    user_id: UserRef, body: SyncUserUpdate, db: DbSession, principal: AdminPrincipal
) -> SyncUserRead:
    """Change a sync user's mailbox, connection, credentials or flags; `enabled: false` stops
    their sync and keeps links and state."""
    return service.update_sync_user(db, principal.resolve_user(user_id), body)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: UserRef, db: DbSession, principal: AdminPrincipal) -> Response:
    """Stop synchronizing the user and forget crmsync's links, sync state, runs and conflicts
    for them; CRM records and mailbox items stay untouched."""
    service.delete_sync_user(db, principal.resolve_user(user_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{user_id}/test-connection")
def test_connection(
    user_id: UserRef, request: Request, db: DbSession, principal: CurrentPrincipal
) -> ConnectionTestRead:
    """Sign in to the user's mailbox now and report whether it works, with Exchange's reason
    when not."""
    probe: MailboxProbe = request.app.state.mailbox_probe
    return service.test_connection(db, principal.resolve_user(user_id), probe)


@router.post(
    "/{user_id}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": RunRead, "description": "with ?wait=true: the finished run"}},
)
async def sync_now(
    user_id: UserRef,
    request: Request,
    response: Response,
    db: DbSession,
    principal: CurrentPrincipal,
    wait: Annotated[
        bool,
        Query(
            description="wait for the run to finish (at most CRMSYNC_MAX_SYNC_WAITS_PER_CALLER "
            "waits per token at a time; 429 beyond)"
        ),
    ] = False,
    force: Annotated[
        bool, Query(description="synchronize even a suspended or disabled user, once")
    ] = False,
) -> RunQueued | RunRead:
    """Queue a synchronization of the user (202 with its run id), or with `?wait=true` answer
    with the finished run. A suspended or disabled user answers 409 unless `?force=true`.
    Waiting holds no thread and no database connection: the request polls the run."""
    if not wait:
        return await run_in_threadpool(_queue_sync, db, principal, user_id, force=force)
    waits: CallerSlots = request.app.state.sync_waits
    async with waits.hold(principal.key_id):
        # The job is enqueued only once the run row is committed, so commit before waiting.
        queued = await run_in_threadpool(
            _queue_sync, db, principal, user_id, force=force, commit_now=True
        )
        response.status_code = status.HTTP_200_OK
        return await _wait_for(request, queued.run_id)


def _queue_sync(
    db: Session,
    principal: Principal,
    user_id: str,
    *,
    force: bool = False,
    commit_now: bool = False,
) -> RunQueued:
    user = service.get_existing(db, principal.resolve_user(user_id))
    if not force:
        service.ensure_syncing(user)
    # A forced run goes ahead in the worker even though the user's sync is stopped.
    run = runs_service.queue_run(db, user.user_id, trigger="forced" if force else "manual")
    if commit_now:
        commit(db)
    return RunQueued(run_id=run.id)


def _read_run(database: Database, run_id: int) -> RunRead:
    # A run whose worker died ends the wait as Interrupted (and is replaced), not at the limit.
    with unit_of_work(database) as db:
        return runs_service.read_while_waiting(db, run_id)


async def _wait_for(request: Request, run_id: int) -> RunRead:
    """The run once finished, or as it is when the wait limit is up or the client went away
    (the run goes on; the caller's wait slot is freed)."""
    deadline = time.monotonic() + _WAIT_LIMIT_SECONDS
    while True:
        run = await run_in_threadpool(_read_run, request.app.state.database, run_id)
        if (
            run.status in _FINISHED
            or time.monotonic() > deadline
            or await request.is_disconnected()
        ):
            return run
        await anyio.sleep(_POLL_SECONDS)
