"""A running run's progress per entity: heard by the CLI, kept on the run row for the API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import Database
from app.main import create_app
from app.models.sync import SyncRun
from tests.e2e.conftest import Mailbox
from tests.factories.crm import person
from tests.factories.users import admin_key
from workers.sync import progress as progress_module
from workers.sync.progress import RunProgress
from workers.sync.runner import RunRequest, run_user_sync


def test_progress_is_heard_while_running_and_kept_on_the_run(
    mailbox: Mailbox, database: Database, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        person(db, flagged_for=mailbox.user_id, pers_firstname="P", pers_lastname=f"Person {n}")
    headers = {"Authorization": f"Bearer {admin_key(db)}"}
    db.commit()
    monkeypatch.setattr(progress_module, "PERSIST_SECONDS", 0.0)
    heard: list[dict[str, dict[str, Any]]] = []
    seen_by_api: list[dict[str, Any]] = []

    with TestClient(create_app(database=database)) as client:

        def listener(snapshot: dict[str, dict[str, Any]]) -> None:
            heard.append(snapshot)
            if snapshot.get("contacts", {}).get("phase") == "applying" and not seen_by_api:
                # Through the API only: its sessions open and close within the request.
                runs = client.get(
                    "/api/v1/runs", params={"user_id": mailbox.user_id}, headers=headers
                ).json()["items"]
                seen_by_api.append(
                    client.get(f"/api/v1/runs/{runs[0]['run_id']}", headers=headers).json()
                )

        run = run_user_sync(
            RunRequest(user_id=mailbox.user_id, trigger="test", on_progress=listener)
        )
        final = client.get(f"/api/v1/runs/{run.run_id}", headers=headers).json()

    (during,) = seen_by_api
    assert during["status"] == "Running"
    assert during["progress"]["contacts"]["phase"] == "listing"
    contacts = final["progress"]["contacts"]
    assert contacts["phase"] == "done"
    assert contacts["planned"] >= 5 and contacts["applied"] == contacts["planned"]
    assert contacts["listed"] >= 5
    assert final["ews_requests"] > 0
    phases = [snapshot["contacts"]["phase"] for snapshot in heard if "contacts" in snapshot]
    assert phases[0] == "listing" and phases[-1] == "done" and "applying" in phases


def _stored(db: Session, run_id: int) -> dict[str, Any]:
    db.expire_all()
    run = db.get(SyncRun, run_id)
    assert run is not None and run.progress is not None
    return dict(run.progress["contacts"])


def test_progress_reaches_the_run_row_at_most_every_few_seconds(
    database: Database, db: Session, mailbox: Mailbox
) -> None:
    run = SyncRun(user_id=mailbox.user_id, status="Running", trigger="test", counts={})
    db.add(run)
    db.commit()
    now = [100.0]
    progress = RunProgress(run.id, ["contacts"], clock=lambda: now[0])
    progress.listing("contacts")  # the first change is written at once
    progress.planned("contacts", listed=300, planned=250)
    progress.applied("contacts", 100)  # at the same moment: not written
    assert _stored(db, run.id)["applied"] == 0
    now[0] += progress_module.PERSIST_SECONDS
    progress.applied("contacts", 100)
    assert _stored(db, run.id) == {
        "phase": "applying",
        "listed": 300,
        "planned": 250,
        "applied": 200,
    }
    progress.applied("contacts", 50)
    progress.done("contacts")  # the end is always written
    assert _stored(db, run.id)["phase"] == "done"
    assert _stored(db, run.id)["applied"] == 250
