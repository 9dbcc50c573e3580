"""A sync job travels through the real Redis broker to a real worker and records its run."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import Database, unit_of_work
from app.main import create_app
from app.models.sync import RunStatus, SyncRun
from ews_simulator.testing import SimulatorServer
from tests.factories.users import admin_key, sync_user


@pytest.fixture
def ews() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


def _user_on(db: Session, ews: SimulatorServer) -> int:
    return sync_user(
        db,
        ews_url=ews.ews_url,
        auth={"type": "basic", "username": "worker@example.com", "password": "x"},
        mailbox="worker@example.com",
    )


def test_queued_sync_runs_on_a_worker(
    committed_database: Database, celery_worker: None, ews: SimulatorServer
) -> None:
    with unit_of_work(committed_database) as db:
        user_id = _user_on(db, ews)
        key = admin_key(db)
    with TestClient(create_app(database=committed_database)) as client:
        response = client.post(
            f"/api/v1/users/{user_id}/sync", headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]

    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        with unit_of_work(committed_database) as db:
            run = db.get(SyncRun, run_id)
            assert run is not None
            status = run.status
        if status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            break
        time.sleep(0.2)
    assert status == RunStatus.SUCCESS
    assert ews.stats()["requests"].get("SyncFolderItems"), "the worker really synchronized"


def test_wait_returns_the_finished_run(
    committed_database: Database, celery_worker: None, ews: SimulatorServer
) -> None:
    with unit_of_work(committed_database) as db:
        user_id = _user_on(db, ews)
        key = admin_key(db)
    with TestClient(create_app(database=committed_database)) as client:
        response = client.post(
            f"/api/v1/users/{user_id}/sync?wait=true", headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "Success"
    assert response.json()["finished_at"] is not None
