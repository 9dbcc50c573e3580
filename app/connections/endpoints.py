from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.connections import service
from app.connections.schemas import ConnectionCreate, ConnectionRead, ConnectionUpdate
from app.deps import AdminPrincipal, DbSession
from app.kit.pagination import Page, PageRequest, page_request
from app.users.connection import MailboxProbe
from app.users.schemas import ConnectionTestRead, SmtpAddress

router = APIRouter(prefix="/connections", tags=["mailbox connections"])


@router.get("")
def list_connections(
    db: DbSession, _admin: AdminPrincipal, page: Annotated[PageRequest, Depends(page_request)]
) -> Page[ConnectionRead]:
    """The mailbox connections, with how many users each serves; secrets are never returned."""
    return service.list_connections(db, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_connection(
    body: ConnectionCreate, db: DbSession, _admin: AdminPrincipal
) -> ConnectionRead:
    """Add a connection: an organization's endpoint and service credentials, held once for the
    users that reference it."""
    return service.create_connection(db, body)


@router.get("/{name}")
def get_connection(name: str, db: DbSession, _admin: AdminPrincipal) -> ConnectionRead:
    """One connection by name; secrets are never returned."""
    return service.read_connection(db, name)


@router.patch("/{name}")
def update_connection(
    name: str, body: ConnectionUpdate, db: DbSession, _admin: AdminPrincipal
) -> ConnectionRead:
    """Change a connection's endpoint or credentials; every user of it follows at their next
    run."""
    return service.update_connection(db, name, body)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(name: str, db: DbSession, _admin: AdminPrincipal) -> Response:
    """Remove a connection no user references any longer."""
    service.delete_connection(db, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/test")
def probe_connection(
    name: str,
    request: Request,
    db: DbSession,
    _admin: AdminPrincipal,
    mailbox: Annotated[
        SmtpAddress | None, Query(description="the mailbox to try; default: the first user's")
    ] = None,
) -> ConnectionTestRead:
    """Sign in with the connection's credentials and report whether Exchange accepts them."""
    probe: MailboxProbe = request.app.state.mailbox_probe
    return service.test_connection(db, name, probe, mailbox)
