"""Admin keys and user tokens: listing and revocation (creation is the CLI's, see app.cli).

Admin keys are an administrator's business; a user token may also list and revoke its user's
own tokens (a lost laptop need not wait for an administrator).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.auth import service
from app.auth.schemas import KeyRead
from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.kit.pagination import Page, PageRequest, page_request
from app.kit.validation import DbId
from app.models.auth import KeyKind

router = APIRouter(tags=["keys and tokens"])


@router.get("/keys")
def list_keys(
    db: DbSession, _admin: AdminPrincipal, page: Annotated[PageRequest, Depends(page_request)]
) -> Page[KeyRead]:
    """The admin keys not revoked, expired ones included."""
    return service.list_keys(db, KeyKind.ADMIN, page=page)


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: DbId, db: DbSession, principal: AdminPrincipal) -> Response:
    """Revoke an admin key: it stops working at once."""
    service.revoke(db, KeyKind.ADMIN, key_id, by=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tokens")
def list_tokens(
    db: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[PageRequest, Depends(page_request)],
    user_id: DbId | None = None,
) -> Page[KeyRead]:
    """The user tokens not revoked (a user token sees its own user's only)."""
    if not principal.is_admin:
        user_id = principal.user_id
    return service.list_keys(db, KeyKind.USER, user_id=user_id, page=page)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: DbId, db: DbSession, principal: CurrentPrincipal) -> Response:
    """Revoke a user token: it stops working at once."""
    service.revoke(db, KeyKind.USER, token_id, by=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
