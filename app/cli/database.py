"""`crmsync db`: the migrations."""

from __future__ import annotations

from typing import Annotated

import typer

db_cli = typer.Typer(help="The database: migrations.")


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from app.migrate import upgrade_database

    upgrade_database(revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION ('base' removes everything)."""
    from app.migrate import downgrade_database

    downgrade_database(revision)
    typer.echo(f"database at {revision}")


@db_cli.command("create-crm")
def db_create_crm() -> None:
    """Create the CRM tables in a separate CRM database (CRMSYNC_CRM_DATABASE_URL), if missing."""
    from app.db import get_database
    from app.models import Base
    from app.models.crm import CRM_TABLES

    database = get_database()
    Base.metadata.create_all(database.crm_engine, tables=list(CRM_TABLES))
    typer.echo("CRM tables present")
