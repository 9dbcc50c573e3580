"""Shared fixtures of the hardening tests: the API with a stand-in mailbox, jobs kept off the
broker; the admin key of tests/app and the simulated mailbox of tests/e2e."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import get_settings
from app.db import Database
from app.filings.mailbox import DraftRequest, FiledMark, ItemsNotFound, MailboxMessage
from app.main import create_app
from app.users.connection import MailboxConnection
from tests.app.conftest import admin_headers, client
from tests.e2e.conftest import mailbox, schema_recorder, simulator, simulator_server

__all__ = [
    "admin_headers",
    "client",
    "enqueued",
    "hardened_app",
    "hardened_client",
    "mailbox",
    "schema_recorder",
    "simulator",
    "simulator_server",
]


class EmptyMailbox:
    """A connector whose mailbox holds nothing: item ids are unknown, drafts are accepted.

    Without a connector these operations answer 503 by design, which would hide what lies
    behind them.
    """

    def fetch(self, connection: MailboxConnection, item_ids: Sequence[str]) -> list[MailboxMessage]:
        raise ItemsNotFound(connection.mailbox, item_ids)

    def mark_filed(
        self, connection: MailboxConnection, marks: Sequence[FiledMark], folder_name: str | None
    ) -> None:
        return None

    def save_draft(self, connection: MailboxConnection, draft: DraftRequest) -> str:
        return "AAMkAGhhcmRlbmVkLWRyYWZ0"


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Jobs the API enqueues, recorded instead of sent: no worker runs in these tests."""
    jobs: list[tuple[str, tuple[Any, ...]]] = []

    def record(task_name: str, *args: Any, expires: int = 0) -> None:
        jobs.append((task_name, args))

    monkeypatch.setattr("app.kit.jobs.enqueue", record)
    return jobs


@pytest.fixture
def hardened_app(
    database: Database, enqueued: list[Any], monkeypatch: pytest.MonkeyPatch
) -> FastAPI:
    # ?wait=true polls for a run no worker will take; it must give up at once, not in minutes.
    monkeypatch.setattr("app.users.endpoints._WAIT_LIMIT_SECONDS", 0)
    # Rate limits have tests of their own; here they would turn the many refused calls from
    # one address into 429s.
    unlimited = get_settings().model_copy(
        update={"rate_limit_per_minute": 0, "failed_auth_limit_per_minute": 0}
    )
    return create_app(settings=unlimited, database=database, mailbox_messages=EmptyMailbox())


@pytest.fixture
def hardened_client(hardened_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(hardened_app) as test_client:
        yield test_client
