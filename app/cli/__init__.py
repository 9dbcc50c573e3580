"""The `crmsync` command: the composition root of the API, the workers and the scheduler.

One module per group of subcommands; this one assembles them.
"""

from __future__ import annotations

import typer

from app.cli import processes
from app.cli.connections import connections_cli
from app.cli.credentials import keys_cli, tokens_cli
from app.cli.database import db_cli
from app.cli.imports import import_cli
from app.cli.secrets import secrets_cli
from app.cli.sync import sync
from app.cli.users import users_cli
from app.config import ConfigurationError, get_settings
from app.kit.logs import configure_logging

__all__ = ["cli", "main"]

cli = typer.Typer(help="crmsync: server-side sync between a Sage CRM database and Exchange.")
cli.add_typer(db_cli, name="db")
cli.add_typer(connections_cli, name="connections")
cli.add_typer(users_cli, name="users")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(tokens_cli, name="tokens")
cli.add_typer(import_cli, name="import")
cli.add_typer(secrets_cli, name="secrets")
cli.command("sync")(sync)
cli.command("demo")(processes.demo)
cli.command("worker")(processes.worker)
cli.command("beat")(processes.beat)
cli.command("serve")(processes.serve)


def main() -> None:
    try:
        get_settings()
    except ConfigurationError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    cli()
