"""Shared fixtures of the hardening tests: the API's test client and jobs kept off the broker."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.conftest import admin_headers, client

__all__ = ["admin_headers", "client", "enqueued"]


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Jobs the API enqueues, recorded instead of sent: no worker runs in these tests."""
    jobs: list[tuple[str, tuple[Any, ...]]] = []

    def record(task_name: str, *args: Any, expires: int = 0) -> None:
        jobs.append((task_name, args))

    monkeypatch.setattr("app.kit.jobs.enqueue", record)
    return jobs
