"""Test configuration: a real PostgreSQL database migrated once per session, rolled back per test.

The environment is set before any crmsync module reads its settings.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_RUN_ID = uuid.uuid4().hex[:8]
_ADMIN_URL = os.environ.get(
    "CRMSYNC_TEST_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_DATABASE_URL = (
    make_url(_ADMIN_URL)
    .set(database=f"crmsync_test_{_RUN_ID}")
    .render_as_string(hide_password=False)
)
TEST_REDIS_URL = os.environ.get("CRMSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")

os.environ["CRMSYNC_DATABASE_URL"] = TEST_DATABASE_URL
os.environ.pop("CRMSYNC_CRM_DATABASE_URL", None)
os.environ["CRMSYNC_BROKER_URL"] = TEST_REDIS_URL
os.environ["CRMSYNC_QUEUE_NAME"] = f"crmsync-test-{_RUN_ID}"
os.environ["CRMSYNC_DATA_DIR"] = tempfile.mkdtemp(prefix="crmsync-test-")
os.environ["CRMSYNC_SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ.pop("CRMSYNC_ENVIRONMENT", None)

from app.db import Database  # noqa: E402  (after the environment is set)


@pytest.fixture(scope="session")
def migrated_database() -> Iterator[Database]:
    """A fresh PostgreSQL database for this test session, built by running the migrations."""
    admin = create_engine(_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = make_url(TEST_DATABASE_URL).database
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    from app.migrate import upgrade_database

    upgrade_database()
    from app.db import get_database

    database = get_database()
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_connection(migrated_database: Database) -> Iterator[Connection]:
    """One connection in an outer transaction that is rolled back when the test ends."""
    connection = migrated_database.engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def database(
    migrated_database: Database, db_connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> Database:
    """The application's Database, with every session bound to the test's rolled-back connection.

    Code under test commits as usual; its commits release savepoints inside the outer
    transaction, so nothing outlives the test.
    """
    factory = sessionmaker(
        bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    monkeypatch.setattr(migrated_database, "session_factory", factory)
    import app.db

    monkeypatch.setattr(app.db, "get_database", lambda: migrated_database)
    return migrated_database


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    session = database.session_factory()
    try:
        yield session
    finally:
        session.close()
