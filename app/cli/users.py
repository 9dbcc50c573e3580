"""`crmsync users`: the CRM users enabled for synchronization."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import fail

users_cli = typer.Typer(help="CRM users enabled for synchronization.")


@users_cli.command("add")
def users_add(
    logon: Annotated[str, typer.Option(help="the CRM logon (users.user_logon)")],
    mailbox: Annotated[str, typer.Option(help="the mailbox's SMTP address")],
    ews_url: Annotated[str, typer.Option(help="the EWS endpoint, …/EWS/Exchange.asmx")],
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
    from pydantic import ValidationError

    from app.db import unit_of_work
    from app.kit.errors import AppError
    from app.users import service
    from app.users.schemas import SyncUserCreate

    try:
        body = SyncUserCreate.model_validate(
            {
                "logon": logon,
                "first_name": first,
                "last_name": last,
                "mailbox": mailbox,
                "ews_url": ews_url,
                "auth": {
                    "type": auth,
                    "username": username or None,
                    "password": password or None,
                    "impersonation": impersonation,
                },
            }
        )
        with unit_of_work() as db:
            created = service.create_sync_user(db, body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        raise fail(problems) from None
    except AppError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"user {created.user_id} ({created.logon}) syncs with {created.mailbox}")


@users_cli.command("list")
def users_list() -> None:
    """List users enabled for sync."""
    from app.db import unit_of_work
    from app.kit.pagination import PageRequest
    from app.users import service

    with unit_of_work() as db:
        cursor: int | None = None
        while True:
            page = service.list_sync_users(db, PageRequest(limit=500, after_id=cursor))
            for user in page.items:
                state = (
                    "suspended" if user.suspended else ("enabled" if user.enabled else "disabled")
                )
                typer.echo(f"{user.user_id}\t{user.logon}\t{user.mailbox}\t{state}\t{user.ews_url}")
            if page.next_cursor is None or not page.items:
                break
            cursor = page.items[-1].user_id
