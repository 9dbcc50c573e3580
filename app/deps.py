"""Request dependencies: the unit of work and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth.service import Principal, authenticate
from app.db import Database, unit_of_work


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _db_session(database: Annotated[Database, Depends(_database)]) -> Iterator[Session]:
    with unit_of_work(database) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a failed commit is an error
# response rather than a success the database never saw.
DbSession = Annotated[Session, Depends(_db_session, scope="function")]


# Declares the bearer scheme in the OpenAPI document; the checks themselves read the raw header
# so that a missing, malformed or unknown token each gets its own message.
_bearer = HTTPBearer(auto_error=False, description="an admin key or a user token")


def _principal(
    request: Request,
    db: DbSession,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return authenticate(db, request.headers.get("authorization"))


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def _admin(principal: CurrentPrincipal) -> Principal:
    principal.require_admin()
    return principal


AdminPrincipal = Annotated[Principal, Depends(_admin)]
