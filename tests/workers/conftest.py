from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import text

from app.db import Database
from app.models import Base


@pytest.fixture
def committed_database(migrated_database: Database) -> Iterator[Database]:
    """For tests whose work crosses processes or threads: data is committed, then wiped."""
    yield migrated_database
    with migrated_database.engine.begin() as connection:
        names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def celery_worker(committed_database: Database) -> Iterator[None]:
    """A real Celery worker (threads) consuming this session's queue on the real Redis broker."""
    from workers.celery_app import app

    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
    ):
        yield
