"""Engines and sessions. A unit of work commits once, at its boundary (a request or a job)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, get_settings
from app.models.base import CrmTable, ServiceTable


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the embedded worker writes; the busy timeout makes a writer
    # wait for the other instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def ensure_sqlite_directory(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """The service database and the CRM database (one and the same by default)."""

    def __init__(self, settings: Settings) -> None:
        service_url = settings.effective_database_url
        crm_url = settings.effective_crm_database_url
        for url in {service_url, crm_url}:
            ensure_sqlite_directory(url)
        self.engine = make_engine(service_url)
        self.crm_engine = self.engine if crm_url == service_url else make_engine(crm_url)
        self.session_factory = sessionmaker(
            binds={ServiceTable: self.engine, CrmTable: self.crm_engine},
            expire_on_commit=False,
        )

    @property
    def shares_engine(self) -> bool:
        """True when CRM rows and crmsync's own rows commit in one transaction."""
        return self.crm_engine is self.engine

    def dispose(self) -> None:
        self.engine.dispose()
        if not self.shares_engine:
            self.crm_engine.dispose()


@lru_cache(maxsize=1)
def get_database() -> Database:
    return Database(get_settings())


_AFTER_COMMIT = "crmsync_after_commit"


def on_commit(db: Session, callback: Callable[[], None]) -> None:
    """Runs `callback` once the unit of work has committed, e.g. to enqueue a job it made."""
    db.info.setdefault(_AFTER_COMMIT, []).append(callback)


def commit(db: Session) -> None:
    db.commit()
    callbacks: list[Callable[[], None]] = db.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        callback()


@contextmanager
def unit_of_work(database: Database | None = None) -> Iterator[Session]:
    """A session committed once on success and rolled back on any error."""
    session = (database or get_database()).session_factory()
    try:
        yield session
        commit(session)
    except BaseException:
        session.info.pop(_AFTER_COMMIT, None)
        session.rollback()
        raise
    finally:
        session.close()
