"""Operating a user's sync through the API: status, suspend, resume, reset, alerts, log entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit import jobs
from app.kit.clock import utc_now
from app.models.sync import (
    Alert,
    EntryLevel,
    FolderState,
    RunEntry,
    RunStatus,
    SkippedItem,
    SyncLink,
    SyncRun,
)
from app.sync_control import service
from tests.factories.users import sync_user, user_token


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **_: calls.append((name, *args)))
    return calls


def _run(db: Session, user_id: int, status: RunStatus, **fields: object) -> SyncRun:
    run = SyncRun(user_id=user_id, status=status, trigger="test", counts={}, **fields)
    db.add(run)
    db.flush()
    return run


def test_status_reports_state_last_run_errors_and_conflicts(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    done = _run(db, user_id, RunStatus.SUCCESS_WITH_ERRORS, finished_at=utc_now())
    db.add(RunEntry(run_id=done.id, user_id=user_id, level=EntryLevel.ERROR, message="boom"))
    _run(db, user_id, RunStatus.QUEUED)
    db.commit()
    status = client.get(f"/api/v1/users/{user_id}/status", headers=admin_headers).json()
    assert status["state"] == "waiting"
    assert status["last_run"]["status"] == "Success with errors"
    assert status["open_errors"] == 1
    assert status["open_conflicts"] == 0


def test_suspend_and_resume(client: TestClient, admin_headers: dict[str, str], db: Session) -> None:
    user_id = sync_user(db)
    db.commit()
    suspended = client.post(
        f"/api/v1/users/{user_id}/suspend", json={"reason": "maintenance"}, headers=admin_headers
    ).json()
    assert (suspended["state"], suspended["suspended_reason"]) == ("suspended", "maintenance")
    resumed = client.post(f"/api/v1/users/{user_id}/resume", headers=admin_headers).json()
    assert resumed["state"] == "idle"
    assert resumed["consecutive_failures"] == 0


def test_reset_forgets_links_and_queues_a_full_comparison(
    client: TestClient,
    admin_headers: dict[str, str],
    db: Session,
    no_broker: list[tuple[object, ...]],
) -> None:
    user_id = sync_user(db)
    db.add(SyncLink(user_id=user_id, entity="contacts", crm_id="1", remote_id="r1", base={}))
    db.add(
        FolderState(user_id=user_id, entity="contacts", sync_state="s", deletions_confirmed=False)
    )
    db.commit()
    response = client.post(f"/api/v1/users/{user_id}/reset", headers=admin_headers)
    assert response.status_code == 202
    assert db.scalars(select(SyncLink)).all() == []
    assert db.scalars(select(FolderState)).all() == []
    assert no_broker == [("sync.user", user_id, response.json()["run_id"])]


def test_user_may_read_own_status_but_not_control_it(client: TestClient, db: Session) -> None:
    user_id = sync_user(db, logon="selfie")
    headers = {"Authorization": f"Bearer {user_token(db, 'selfie')}"}
    db.commit()
    assert client.get("/api/v1/users/me/status", headers=headers).json()["user_id"] == user_id
    assert client.post(f"/api/v1/users/{user_id}/suspend", headers=headers).status_code == 403
    assert client.post(f"/api/v1/users/{user_id}/reset", headers=headers).status_code == 403


def test_consecutive_permanent_failures_suspend_with_an_alert(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    for attempt in range(service.SUSPEND_AFTER_FAILURES):
        suspended = service.record_permanent_failure(db, user_id, "bad credentials")
        assert suspended is (attempt == service.SUSPEND_AFTER_FAILURES - 1)
    db.commit()
    alerts = client.get("/api/v1/alerts", headers=admin_headers).json()["items"]
    assert [a["kind"] for a in alerts] == ["sync_suspended"]
    assert "bad credentials" in alerts[0]["message"]
    client.post(f"/api/v1/users/{user_id}/resume", headers=admin_headers)
    assert client.get("/api/v1/alerts", headers=admin_headers).json()["items"] == []
    assert db.scalars(select(Alert)).one().acknowledged_at is not None


def test_skip_and_retry_a_log_entry(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    run = _run(db, user_id, RunStatus.SUCCESS_WITH_ERRORS, finished_at=utc_now())
    entry = RunEntry(
        run_id=run.id,
        user_id=user_id,
        entity="contacts",
        level=EntryLevel.ERROR,
        crm_id="42",
        remote_id="AAMk42",
        message="Exchange refused the item",
    )
    db.add(entry)
    db.commit()
    skipped = client.post(f"/api/v1/log-entries/{entry.id}/skip", headers=admin_headers)
    assert skipped.json()["state"] == "skipped"
    assert db.scalars(select(SkippedItem)).one().crm_id == "42"
    retried = client.post(f"/api/v1/log-entries/{entry.id}/retry", headers=admin_headers)
    assert retried.status_code == 202
    assert db.scalars(select(SkippedItem)).all() == []


def test_logs_older_than_the_retention_are_purged(db: Session) -> None:
    user_id = sync_user(db)
    old = _run(db, user_id, RunStatus.SUCCESS, finished_at=utc_now())
    old.queued_at = utc_now() - timedelta(days=45)
    db.add(RunEntry(run_id=old.id, user_id=user_id, level=EntryLevel.INFO, message="old"))
    recent = _run(db, user_id, RunStatus.SUCCESS, finished_at=utc_now())
    db.flush()
    assert service.purge_old_logs(db, utc_now()) == 1
    db.expire_all()
    assert [r.id for r in db.scalars(select(SyncRun))] == [recent.id]
    assert db.scalars(select(RunEntry)).all() == []
