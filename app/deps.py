"""Request dependencies: the unit of work and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth.service import Principal, authenticate
from app.db import Database, unit_of_work
from app.kit.errors import Unauthorized
from app.kit.rate_limit import RateLimiter


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


def authenticate_request(request: Request, db: Session) -> Principal:
    """The caller of a request carrying a token, within the rate limits (see kit.rate_limit)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    authorization = request.headers.get("authorization")
    try:
        principal = authenticate(db, authorization)
    except Unauthorized:
        # Only a presented token is a guess; a request without one is no brute-force attempt.
        # The address is the client's own, proxies resolved (see kit.client_address).
        if authorization:
            limiter.record_failed_auth(request.client.host if request.client else "unknown")
        raise
    limiter.check_token(principal.key_id)
    return principal


def _principal(
    request: Request,
    db: DbSession,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return authenticate_request(request, db)


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def _admin(principal: CurrentPrincipal) -> Principal:
    principal.require_admin()
    return principal


AdminPrincipal = Annotated[Principal, Depends(_admin)]
