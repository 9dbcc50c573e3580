"""`crmsync db`: the migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db_cli = typer.Typer(help="The database: migrations.")

_PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def _alembic_config() -> object:
    from alembic.config import Config

    config = Config(str(_PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_PROJECT_ROOT / "migrations"))
    return config


def upgrade_database(revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(), revision)  # type: ignore[arg-type]


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    upgrade_database(revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION ('base' removes everything)."""
    from alembic import command

    command.downgrade(_alembic_config(), revision)  # type: ignore[arg-type]
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
