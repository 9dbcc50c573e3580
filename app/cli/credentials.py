"""`crmsync keys` and `crmsync tokens`: admin keys and per-user API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import fail

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
