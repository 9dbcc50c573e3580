"""`crmsync users`: the CRM users enabled for synchronization."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.common import fail
from app.kit.validation_messages import problems

users_cli = typer.Typer(help="CRM users enabled for synchronization.")


@users_cli.command("add")
def users_add(
    logon: Annotated[str, typer.Option(help="the CRM logon (users.user_logon)")],
    mailbox: Annotated[str, typer.Option(help="the mailbox's SMTP address")],
    connection: Annotated[
        str | None, typer.Option(help="a connection (see `crmsync connections list`)")
    ] = None,
    ews_url: Annotated[
        str | None, typer.Option(help="the user's own EWS endpoint, …/EWS/Exchange.asmx")
    ] = None,
    username: Annotated[str, typer.Option(help="account that signs in to EWS")] = "",
    password: Annotated[str, typer.Option(help="its password")] = "",
    auth: Annotated[str, typer.Option(help="basic, ntlm or noauth")] = "basic",
    impersonation: Annotated[
        bool, typer.Option("--impersonation", help="a service account impersonates the mailbox")
    ] = False,
    first: Annotated[str | None, typer.Option(help="first name of a new CRM user")] = None,
    last: Annotated[str | None, typer.Option(help="last name of a new CRM user")] = None,
) -> None:
    """Enable a CRM user for sync (creating the users row when missing)."""

    from app.db import unit_of_work
    from app.kit.errors import AppError
    from app.users import service
    from app.users.schemas import SyncUserCreate

    own = {
        "ews_url": ews_url,
        "auth": {
            "type": auth,
            "username": username or None,
            "password": password or None,
            "impersonation": impersonation,
        },
    }
    try:
        body = SyncUserCreate.model_validate(
            {
                "logon": logon,
                "first_name": first,
                "last_name": last,
                "mailbox": mailbox,
                **({"connection": connection} if connection else own),
            }
        )
        with unit_of_work() as db:
            created = service.create_sync_user(db, body)
    except ValidationError as exc:
        raise fail(problems(exc)) from None
    except AppError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"user {created.user_id} ({created.logon}) syncs with {created.mailbox}")


@users_cli.command("list")
def users_list() -> None:
    """List users enabled for sync."""
    from app.db import unit_of_work
    from app.kit.pagination import every_item
    from app.users import service

    with unit_of_work() as db:
        listing = partial(service.list_sync_users, db)
        for user in every_item(listing, lambda user: user.user_id):
            state = "suspended" if user.suspended else ("enabled" if user.enabled else "disabled")
            typer.echo(f"{user.user_id}\t{user.logon}\t{user.mailbox}\t{state}\t{user.ews_url}")
