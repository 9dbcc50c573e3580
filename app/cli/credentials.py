"""`crmsync keys` and `crmsync tokens`: admin keys and per-user API tokens.

Listings print one key a line, tab-separated: id, logon (`-` for an admin key), creation,
expiry and last use (`never` when there is none), then the key's label.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from app.cli.common import fail
from app.models.auth import KeyKind

keys_cli = typer.Typer(help="Admin API keys.")
tokens_cli = typer.Typer(help="Per-user API tokens.")


@keys_cli.command("create")
def keys_create(name: Annotated[str, typer.Option(help="a label for the key")] = "") -> None:
    """Create an admin API key; the secret is printed once, alone on the last line."""
    from app.auth import service
    from app.db import unit_of_work

    with unit_of_work() as db:
        secret = service.create_admin_key(db, name=name)
    typer.echo("admin key created; store it now, it is not shown again:")
    typer.echo(secret)


@tokens_cli.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="the CRM logon of the token's user")],
    name: Annotated[str, typer.Option(help="a label for the token")] = "",
) -> None:
    """Create a user token; the secret is printed once, alone on the last line."""
    from app.auth import service
    from app.db import unit_of_work
    from app.kit.errors import AppError

    try:
        with unit_of_work() as db:
            secret = service.create_user_token(db, user, name=name)
    except AppError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"token created for {user}; store it now, it is not shown again:")
    typer.echo(secret)


@keys_cli.command("list")
def keys_list() -> None:
    """The admin keys not revoked: id, -, created, expires, last used, label."""
    _print_keys(KeyKind.ADMIN, logon=None)


@tokens_cli.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option("--user", help="only this CRM logon's")] = None,
) -> None:
    """The user tokens not revoked: id, logon, created, expires, last used, label."""
    _print_keys(KeyKind.USER, logon=user)


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="the id `keys list` shows")]) -> None:
    """End an admin key for good."""
    _revoke(KeyKind.ADMIN, key_id)


@tokens_cli.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="the id `tokens list` shows")],
) -> None:
    """End a user token for good."""
    _revoke(KeyKind.USER, token_id)


def _print_keys(kind: KeyKind, logon: str | None) -> None:
    from app.auth import service
    from app.db import unit_of_work
    from app.users import repository as users_repository

    with unit_of_work() as db:
        user_id = None
        if logon is not None:
            user = users_repository.find_crm_user_by_logon(db, logon)
            if user is None:
                raise fail(f"no CRM user with logon {logon!r}")
            user_id = user.user_userid
        keys = service.list_keys(db, kind, user_id=user_id).items
    for key in keys:
        fields = [
            str(key.id),
            key.logon or "-",
            _when(key.created_at),
            _when(key.expires_at),
            _when(key.last_used_at),
            key.name,
        ]
        typer.echo("\t".join(fields))


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never"


def _revoke(kind: KeyKind, key_id: int) -> None:
    from app.auth import service
    from app.db import unit_of_work
    from app.kit.errors import AppError

    try:
        with unit_of_work() as db:
            service.revoke(db, kind, key_id)
    except AppError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"{service.KEY_NOUN[kind]} {key_id} revoked")
