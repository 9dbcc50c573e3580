"""What the benchmarks share: a scratch database, a user synchronized with a simulated mailbox,
an Outlook-like view of that mailbox, and aging of CRM rows between runs.

Settings are read once, on first use: `scratch_database` must run before the application is
imported.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

BENCH_MAILBOX = "bench@example.com"
# Automatic runs are 15 minutes apart; the rows the first sync wrote are that old by the next
# run. Without aging, the CRM watermark's overlap window would re-read them all.
AGE_MINUTES = 15


@contextmanager
def scratch_database(admin_url: str | None) -> Iterator[None]:
    """Points crmsync (this process and the workers it starts) at a new PostgreSQL database
    beside the one `admin_url` names, dropped after; with no URL, at a temporary SQLite file."""
    os.environ.setdefault("CRMSYNC_DATA_DIR", tempfile.mkdtemp(prefix="crmsync-bench-"))
    os.environ["CRMSYNC_SECRET_KEY"] = "bench"
    if not admin_url:
        os.environ.pop("CRMSYNC_DATABASE_URL", None)
        yield
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"crmsync_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = make_url(admin_url).set(database=name)
    os.environ["CRMSYNC_DATABASE_URL"] = scratch.render_as_string(hide_password=False)
    try:
        yield
    finally:
        from app.db import get_database

        get_database().dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_bench_user(ews_url: str, smtp: str = BENCH_MAILBOX, logon: str = "bench") -> int:
    from app.db import unit_of_work
    from app.users import service as users_service
    from app.users.schemas import SyncUserCreate

    with unit_of_work() as db:
        return users_service.create_sync_user(
            db,
            SyncUserCreate.model_validate(
                {
                    "logon": logon,
                    "mailbox": smtp,
                    "ews_url": ews_url,
                    "auth": {"type": "basic", "username": smtp, "password": "x"},
                }
            ),
        ).user_id


def outlook_account(ews_url: str, smtp: str = BENCH_MAILBOX) -> Any:
    """The mailbox as a user's Outlook sees it, to change items from that side."""
    from ews_simulator.testing import client_account

    return client_account(ews_url, smtp, "x")


def age_crm_rows(database: Any, minutes: int = AGE_MINUTES) -> None:
    from sqlalchemy import func, update

    from app.models.crm import CRM_TABLES

    with database.engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        for table in CRM_TABLES:
            updated = next(c for c in table.columns if c.name.endswith("_updateddate"))
            # SQLite keeps datetimes as text: its own function shifts them.
            aged = (
                func.datetime(updated, f"-{minutes} minutes")
                if sqlite
                else updated - timedelta(minutes=minutes)
            )
            connection.execute(update(table).values({updated: aged}))
