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
    return service.list_connections(db, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_connection(
    body: ConnectionCreate, db: DbSession, _admin: AdminPrincipal
) -> ConnectionRead:
    return service.create_connection(db, body)


@router.get("/{name}")
def get_connection(name: str, db: DbSession, _admin: AdminPrincipal) -> ConnectionRead:
    return service.read_connection(db, name)


@router.patch("/{name}")
def update_connection(
    name: str, body: ConnectionUpdate, db: DbSession, _admin: AdminPrincipal
) -> ConnectionRead:
    return service.update_connection(db, name, body)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(name: str, db: DbSession, _admin: AdminPrincipal) -> Response:
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
    probe: MailboxProbe = request.app.state.mailbox_probe
    return service.test_connection(db, name, probe, mailbox)
