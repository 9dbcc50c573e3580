"""Migrations go up and down on PostgreSQL and SQLite, and match the models exactly."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.migrate import alembic_config
from app.models import Base
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    name = f"crmsync_mig_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(TEST_DATABASE_URL).set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _round_trip(url: str) -> None:
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert drift == [], f"models and migrations differ: {drift}"
        assert inspect(connection).has_table("communication")
        command.downgrade(config, "base")
        assert not inspect(connection).has_table("communication")
        assert not inspect(connection).has_table("crmsync_sync_user")
        command.upgrade(config, "head")
    engine.dispose()


def test_postgres_up_down_up(scratch_postgres: str) -> None:
    _round_trip(scratch_postgres)


def test_sqlite_up_down_up(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'crmsync.db'}")


def test_separate_crm_database_keeps_crm_tables_out(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'service.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["crm_tables"] = False
        command.upgrade(config, "head")
        tables = set(inspect(connection).get_table_names())
    assert "crmsync_sync_user" in tables
    assert "person" not in tables
    assert os.path.exists(tmp_path / "service.db")
    engine.dispose()
