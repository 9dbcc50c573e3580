"""Admin keys and user tokens: creation (from the CLI) and authentication of requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth import repository
from app.kit.clock import utc_now
from app.kit.crypto import new_token, token_digest
from app.kit.errors import Forbidden, NotFound, Unauthorized
from app.models.auth import ApiKey, KeyKind
from app.users import repository as users_repository

_TOKEN_PREFIX = {KeyKind.ADMIN: "csk", KeyKind.USER: "cst"}


@dataclass(frozen=True)
class Principal:
    kind: KeyKind
    user_id: int | None
    key_id: int

    @property
    def is_admin(self) -> bool:
        return self.kind is KeyKind.ADMIN

    def resolve_user(self, user_id: str) -> int:
        """The user id a path names; `me` is the caller. Users reach only their own."""
        if user_id == "me":
            if self.user_id is None:
                raise NotFound("'me' names a user, but this admin key belongs to no user")
            return self.user_id
        try:
            wanted = int(user_id)
        except ValueError:
            raise NotFound(f"no user {user_id!r}: user ids are integers or 'me'") from None
        if not self.is_admin and wanted != self.user_id:
            # A user must not learn which other user ids exist.
            raise NotFound(f"no user {wanted}")
        return wanted

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this needs an admin key; a user token reaches only its own resources")


def create_admin_key(db: Session, name: str = "") -> str:
    return _create(db, KeyKind.ADMIN, user_id=None, name=name)


def create_user_token(db: Session, logon: str, name: str = "") -> str:
    user = users_repository.find_crm_user_by_logon(db, logon)
    if user is None:
        raise NotFound(f"no CRM user with logon {logon!r}")
    return _create(db, KeyKind.USER, user_id=user.user_userid, name=name)


def _create(db: Session, kind: KeyKind, user_id: int | None, name: str) -> str:
    secret = new_token(_TOKEN_PREFIX[kind])
    db.add(
        ApiKey(
            kind=kind,
            user_id=user_id,
            name=name,
            prefix=secret[:10],
            secret_sha256=token_digest(secret),
        )
    )
    db.flush()
    return secret


def authenticate(db: Session, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    key = repository.find_live_key(db, token_digest(token.strip()))
    if key is None:
        raise Unauthorized("invalid or revoked token")
    key.last_used_at = utc_now()
    return Principal(kind=KeyKind(key.kind), user_id=key.user_id, key_id=key.id)
