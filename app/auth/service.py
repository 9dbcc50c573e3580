"""Admin keys and user tokens: creation, listing and revocation, and authentication of requests.

A user token expires (CRMSYNC_USER_TOKEN_DAYS after its creation) and stops working when its
CRM user is deleted (`users.user_deleted = 1`); stopping a user's synchronization does not
touch their API access. Admin keys last until revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.auth import repository
from app.auth.schemas import KeyRead
from app.config import get_settings
from app.kit.clock import utc_now
from app.kit.crypto import new_token, token_digest
from app.kit.errors import Forbidden, NotFound, Unauthorized
from app.kit.pagination import Page, PageRequest, make_page
from app.models.auth import ApiKey, KeyKind
from app.users import repository as users_repository

_TOKEN_PREFIX = {KeyKind.ADMIN: "csk", KeyKind.USER: "cst"}
KEY_NOUN = {KeyKind.ADMIN: "admin key", KeyKind.USER: "user token"}
# Last use is recorded at this resolution, so a busy token costs a write a minute, not one a
# request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


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
    return _create(db, KeyKind.ADMIN, user_id=None, name=name, expires_at=None)


def create_user_token(db: Session, logon: str, name: str = "") -> str:
    user = users_repository.find_crm_user_by_logon(db, logon)
    if user is None:
        raise NotFound(f"no CRM user with logon {logon!r}")
    expires_at = utc_now() + timedelta(days=get_settings().user_token_days)
    return _create(db, KeyKind.USER, user_id=user.user_userid, name=name, expires_at=expires_at)


def _create(
    db: Session, kind: KeyKind, user_id: int | None, name: str, expires_at: datetime | None
) -> str:
    secret = new_token(_TOKEN_PREFIX[kind])
    db.add(
        ApiKey(
            kind=kind,
            user_id=user_id,
            name=name,
            prefix=secret[:10],
            secret_sha256=token_digest(secret),
            expires_at=expires_at,
        )
    )
    db.flush()
    return secret


def list_keys(
    db: Session, kind: KeyKind, *, user_id: int | None = None, page: PageRequest | None = None
) -> Page[KeyRead]:
    """Live (unrevoked) keys of a kind, expired ones included, oldest first."""
    limit = page.limit + 1 if page else None
    after_id = page.after_id if page else None
    keys = repository.list_live_keys(db, kind, user_id=user_id, after_id=after_id, limit=limit)
    logons = users_repository.crm_users_by_id(db, [k.user_id for k in keys if k.user_id])
    items = [
        KeyRead(
            id=key.id,
            kind=KeyKind(key.kind),
            user_id=key.user_id,
            logon=logons[key.user_id].user_logon if key.user_id in logons else None,
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
        )
        for key in keys
    ]
    if page is None:
        return Page(items=items, next_cursor=None)
    return make_page(items, [k.id for k in keys], page)


def revoke(db: Session, kind: KeyKind, key_id: int, *, by: Principal | None = None) -> None:
    """Ends a key for good. A user may revoke their own tokens; `by` None is the CLI."""
    key = repository.get_live_key(db, kind, key_id)
    visible = by is None or by.is_admin or (key is not None and key.user_id == by.user_id)
    if key is None or not visible:
        raise NotFound(f"no live {KEY_NOUN[kind]} {key_id}")
    key.revoked_at = utc_now()
    db.flush()


def authenticate(db: Session, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    key = repository.find_live_key(db, token_digest(token.strip()))
    if key is None:
        raise Unauthorized("invalid or revoked token")
    now = utc_now()
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized(f"token expired at {key.expires_at.isoformat()}; ask for a new one")
    if key.kind == KeyKind.USER and not _user_is_live(db, key):
        raise Unauthorized("the token's CRM user is deleted")
    if key.last_used_at is None or now - key.last_used_at >= LAST_USE_RESOLUTION:
        key.last_used_at = now
    return Principal(kind=KeyKind(key.kind), user_id=key.user_id, key_id=key.id)


def _user_is_live(db: Session, key: ApiKey) -> bool:
    user = users_repository.get_crm_user(db, key.user_id) if key.user_id is not None else None
    return user is not None and user.is_live
