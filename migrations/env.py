"""Alembic environment: migrates crmsync's database from app.models' metadata.

When the CRM lives in a database of its own (CRMSYNC_CRM_DATABASE_URL differs), its tables are
left out here: that database is the CRM's, created by the CRM or by `crmsync db create-crm`.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from app.config import get_settings
from app.db import ensure_sqlite_directory, make_engine
from app.models import Base
from app.models.crm import CRM_TABLES

_CRM_TABLE_NAMES = {table.name for table in CRM_TABLES}


def _crm_tables_here() -> bool:
    settings = get_settings()
    return settings.effective_crm_database_url == settings.effective_database_url


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and name in _CRM_TABLE_NAMES and not _crm_tables_here())


def _configure(connection: Connection) -> None:
    # Migrations that touch CRM tables read this and leave them alone when it is False.
    context.config.attributes.setdefault("crm_tables", _crm_tables_here())
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = get_settings().effective_database_url
    ensure_sqlite_directory(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
