"""`crmsync users`: the CRM users enabled for synchronization."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from app.cli.common import fail
from app.kit.validation_messages import problems

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.users.schemas import SyncUserRead

users_cli = typer.Typer(help="CRM users enabled for synchronization.")

PASSWORD_VARIABLE = "CRMSYNC_MAILBOX_PASSWORD"

# Where each field of the API's body comes from on the command line, for error messages.
_FLAGS = {
    "logon": "--logon",
    "connection": "--connection",
    "first_name": "--first",
    "last_name": "--last",
    "mailbox": "--mailbox",
    "ews_url": "--ews-url",
    "auth.type": "--auth",
    "auth.username": "--username",
    "auth.password": "--password",
}


def _interactive() -> bool:
    return sys.stdin.isatty()


def _mailbox_password(password_file: Path | None, password: str | None) -> str | None:
    """The password from the file, the environment, the (discouraged) flag, or a prompt."""
    if password_file is not None and password is not None:
        raise fail("give the password once: --password-file or --password, not both")
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise fail(f"--password-file: cannot read {password_file}: {exc.strerror}") from None
    if password is not None:
        return password
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment:
        return from_environment
    if _interactive():
        entered: str = typer.prompt("mailbox password", hide_input=True)
        return entered
    return None


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
    password_file: Annotated[
        Path | None,
        typer.Option(
            help=f"a file holding its password (else ${PASSWORD_VARIABLE}, else a prompt)"
        ),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="its password; discouraged: it shows in `ps` and the shell's history",
            show_default=False,
        ),
    ] = None,
    auth: Annotated[str, typer.Option(help="basic, ntlm or noauth")] = "basic",
    impersonation: Annotated[
        bool, typer.Option("--impersonation", help="a service account impersonates the mailbox")
    ] = False,
    first: Annotated[str | None, typer.Option(help="first name of a new CRM user")] = None,
    last: Annotated[str | None, typer.Option(help="last name of a new CRM user")] = None,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="save without signing in to the mailbox first")
    ] = False,
) -> None:
    """Enable a CRM user for sync (creating the users row when missing).

    The mailbox connection is tested before anything is saved, unless --no-check.
    """
    from app.db import unit_of_work
    from app.kit.errors import AppError
    from app.users import service
    from app.users.schemas import SyncUserCreate

    needs_password = connection is None and auth.lower() in ("basic", "ntlm")
    if needs_password and not username:
        raise fail(f"--username is required with --auth {auth}")
    secret = _mailbox_password(password_file, password) if needs_password else None
    if needs_password and not secret:
        raise fail(
            f"--auth {auth} needs the password: --password-file FILE, ${PASSWORD_VARIABLE}, "
            "or run interactively to be asked"
        )
    own = {
        "ews_url": ews_url,
        "auth": {
            "type": auth.lower(),
            "username": username or None,
            "password": secret,
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
                "check_connection": not no_check,
            }
        )
    except ValidationError as exc:
        raise fail(problems(exc, _FLAGS)) from None
    try:
        with unit_of_work() as db:
            if body.check_connection:
                # The composition root may reach into the workers for the Exchange connector.
                from workers.connectors.dispatch import ConnectorProbe

                service.check_new_connection(db, body, ConnectorProbe())
            created = service.create_sync_user(db, body)
    except AppError as exc:
        detail = exc.detail.replace("(check_connection: false", "(--no-check")
        raise fail(detail) from None
    typer.echo(f"user {created.user_id} ({created.logon}) syncs with {created.mailbox}")


def _next_sync(user: SyncUserRead, now: datetime) -> str:
    if not user.enabled or user.suspended:
        return "-"
    if user.next_sync_at <= now:
        return "due"
    return user.next_sync_at.strftime("%Y-%m-%d %H:%M UTC")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]  # fmt: skip


@users_cli.command("list")
def users_list() -> None:
    """List the users enabled for sync: status (healthy, errors, suspended, never, disabled)
    and when each next synchronizes."""
    from app.db import unit_of_work
    from app.kit.clock import utc_now
    from app.kit.pagination import every_item
    from app.users import service

    now = utc_now()
    with unit_of_work() as db:
        listing = partial(service.list_sync_users, db)
        rows = [
            [
                str(user.user_id),
                user.logon or "",
                user.mailbox,
                str(user.status),
                _next_sync(user, now),
                user.connection or user.ews_url or "",
            ]
            for user in every_item(listing, lambda user: user.user_id)
        ]
    if not rows:
        typer.echo("no users are enabled for sync (add one with `crmsync users add`)")
        return
    for line in _table(
        ["ID", "LOGON", "MAILBOX", "STATUS", "NEXT SYNC", "CONNECTION OR EWS URL"], rows
    ):
        typer.echo(line)


def _with_user(logon: str, change: Callable[[Session, int], str]) -> None:
    from app.db import unit_of_work
    from app.users import repository

    with unit_of_work() as db:
        crm_user = repository.find_crm_user_by_logon(db, logon)
        if crm_user is None or repository.get_sync_user(db, crm_user.user_userid) is None:
            raise fail(f"{logon!r} is not a CRM user enabled for sync (see `crmsync users list`)")
        message = change(db, crm_user.user_userid)
    typer.echo(message)


def _set_enabled(logon: str, enabled: bool) -> None:
    from app.users import service
    from app.users.schemas import SyncUserUpdate

    def change(db: Session, user_id: int) -> str:
        service.update_sync_user(db, user_id, SyncUserUpdate(enabled=enabled))
        state = "resumes" if enabled else "stops"
        return f"user {user_id} ({logon}): synchronization {state}; links and sync state kept"

    _with_user(logon, change)


LogonOption = Annotated[str, typer.Option("--logon", help="the CRM logon of the user")]


@users_cli.command("disable")
def users_disable(logon: LogonOption) -> None:
    """Stop synchronizing the user; links, sync state and API access stay."""
    _set_enabled(logon, False)


@users_cli.command("enable")
def users_enable(logon: LogonOption) -> None:
    """Resume synchronizing a disabled user where it left off."""
    _set_enabled(logon, True)


@users_cli.command("remove")
def users_remove(
    logon: LogonOption,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Stop synchronizing the user and forget crmsync's links and sync state for it.

    CRM records and mailbox items stay untouched; adding the user again matches them anew.
    """
    from app.users import service

    if not yes and not typer.confirm(
        f"forget the links and sync state of {logon}? CRM and mailbox data stay", default=False
    ):
        raise typer.Exit(code=1)

    def change(db: Session, user_id: int) -> str:
        removal = service.delete_sync_user(db, user_id)
        return (
            f"user {user_id} ({logon}) removed from sync: {removal.links} links and "
            f"{removal.folder_states} folder sync states forgotten; CRM and mailbox data untouched"
        )

    _with_user(logon, change)
