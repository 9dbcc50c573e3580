"""`crmsync connections`: the mailbox connections of the admin API, from a shell.

Secrets come from files (`-` for standard input), never from arguments, which other users of
the machine can read in the process list.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from app.cli.common import SecretFile, fail, read_secret_file
from app.kit.validation_messages import problems

connections_cli = typer.Typer(help="Mailbox connections: an endpoint and its service credentials.")


@connections_cli.command("add")
def add(
    name: Annotated[str, typer.Option(help="a name users join it by")],
    ews_url: Annotated[
        str | None, typer.Option(help="the EWS endpoint, …/EWS/Exchange.asmx")
    ] = None,
    connector: Annotated[str, typer.Option(help="ews or graph")] = "ews",
    auth: Annotated[
        str | None,
        typer.Option(help="basic, ntlm, oauth2 or noauth (default basic; Graph: oauth2)"),
    ] = None,
    username: Annotated[str | None, typer.Option(help="the service account")] = None,
    password_file: SecretFile = None,
    tenant: Annotated[str | None, typer.Option(help="OAuth2: the directory (tenant)")] = None,
    client_id: Annotated[str | None, typer.Option(help="OAuth2: the app's client id")] = None,
    client_secret_file: SecretFile = None,
    client_certificate_file: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="PEM with the certificate and its private key"),
    ] = None,
    authority_url: Annotated[
        str | None, typer.Option(help="OAuth2: the token issuer (default Microsoft's)")
    ] = None,
    audience: Annotated[
        str | None, typer.Option(help="OAuth2: the token's resource (default the EWS host)")
    ] = None,
    graph_url: Annotated[
        str | None, typer.Option(help="Graph: the endpoint (default Microsoft's, …/v1.0)")
    ] = None,
    impersonation: Annotated[
        bool, typer.Option("--impersonation", help="the account impersonates each mailbox")
    ] = False,
) -> None:
    """Add a connection; users join it with `crmsync users add --connection NAME`."""
    from app.connections import service
    from app.connections.schemas import ConnectionCreate
    from app.db import unit_of_work
    from app.kit.errors import AppError

    fields: dict[str, Any] = {
        "name": name,
        "connector": connector,
        "ews_url": ews_url,
        "auth": auth,
        "username": username,
        "password": read_secret_file(password_file, "--password-file"),
        "tenant": tenant,
        "client_id": client_id,
        "client_secret": read_secret_file(client_secret_file, "--client-secret-file"),
        "client_certificate": read_secret_file(
            client_certificate_file, "--client-certificate-file"
        ),
        "authority_url": authority_url,
        "audience": audience,
        "graph_url": graph_url,
        "impersonation": impersonation,
    }
    try:
        body = ConnectionCreate.model_validate(
            {key: value for key, value in fields.items() if value is not None}
        )
        with unit_of_work() as db:
            created = service.create_connection(db, body)
    except ValidationError as exc:
        raise fail(problems(exc)) from None
    except AppError as exc:
        raise fail(exc.detail) from None
    endpoint = created.graph_url or "Microsoft Graph" if created.connector == "graph" else None
    typer.echo(
        f"connection {created.name} ({created.connector}, {created.auth}) "
        f"to {endpoint or created.ews_url} added"
    )


@connections_cli.command("list")
def list_() -> None:
    """The connections, with the number of users each serves."""
    from app.connections import service
    from app.db import unit_of_work
    from app.kit.pagination import every_item

    with unit_of_work() as db:
        listing = partial(service.list_connections, db)
        for row in every_item(listing, lambda row: row.id):
            typer.echo(f"{row.name}\t{row.connector}\t{row.auth}\t{row.ews_url}\t{row.users} users")


@connections_cli.command("test")
def try_connection(
    name: Annotated[str, typer.Option(help="the connection")],
    mailbox: Annotated[
        str | None, typer.Option(help="the mailbox to try (default: the first user's)")
    ] = None,
) -> None:
    """Reach a mailbox through the connection; exit 1 with the reason if that fails."""
    from app.connections import service
    from app.db import unit_of_work
    from app.kit.errors import AppError
    from workers.connectors.dispatch import ConnectorProbe

    try:
        with unit_of_work() as db:
            result = service.test_connection(db, name, ConnectorProbe(), mailbox)
    except AppError as exc:
        raise fail(exc.detail) from None
    typer.echo(("ok: " if result.ok else "failed: ") + result.detail)
    if not result.ok:
        raise typer.Exit(code=1)


@connections_cli.command("switch")
def switch(
    name: Annotated[str, typer.Option(help="the connection its users leave")],
    to: Annotated[str, typer.Option(help="the connection they join")],
) -> None:
    """Move every user of a connection to another (e.g. EWS to Graph before EWS is switched off)."""
    from app.connections import service
    from app.db import unit_of_work
    from app.kit.errors import AppError

    try:
        with unit_of_work() as db:
            moved = service.switch_connection(db, name, to)
    except AppError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"{moved} user(s) moved from {name} to {to}")
