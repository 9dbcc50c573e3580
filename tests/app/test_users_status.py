"""Status that reads right: users by logon and status, a stopped user's manual sync, log
entries that only inform, enum filters in any letter case, the connection check, imports."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import Database
from app.main import create_app
from app.models.imports import ContactImport, ImportFormat, ImportStatus
from app.models.sync import EntryLevel, RunEntry, RunStatus, SyncRun, SyncUser
from app.users.connection import MailboxConnection, ProbeResult
from tests.factories.users import sync_user

NEW_USER = {
    "logon": "dora",
    "mailbox": "dora@example.com",
    "ews_url": "https://mail.example.com/EWS/Exchange.asmx",
    "auth": {"type": "basic", "username": "dora@example.com", "password": "pw"},
}


def _run(db: Session, user_id: int, status: RunStatus) -> SyncRun:
    run = SyncRun(user_id=user_id, status=status, trigger="schedule", counts={})
    db.add(run)
    db.flush()
    return run


def test_users_filter_by_logon_and_status(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    healthy, errors, suspended, never, disabled = (sync_user(db) for _ in range(5))
    _run(db, healthy, RunStatus.FAILED)
    _run(db, healthy, RunStatus.SUCCESS)  # the last finished run counts
    _run(db, healthy, RunStatus.RUNNING)
    _run(db, errors, RunStatus.SUCCESS_WITH_ERRORS)
    for user_id, change in ((suspended, "suspended"), (disabled, "enabled")):
        user = db.get(SyncUser, user_id)
        assert user is not None
        setattr(user, change, change == "suspended")
        if change == "suspended":
            user.suspended_reason = "too many failures"
    db.commit()

    def ids(**params: str) -> list[int]:
        response = client.get("/api/v1/users", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        return [item["user_id"] for item in response.json()["items"]]

    assert ids(status="healthy") == [healthy]
    assert ids(status="ERRORS") == [errors]  # any letter case
    assert ids(status="suspended") == [suspended]
    assert ids(status="never") == [never]
    assert ids(status="disabled") == [disabled]
    listing = client.get("/api/v1/users", headers=admin_headers).json()["items"]
    statuses = {item["user_id"]: item["status"] for item in listing}
    assert statuses[healthy] == "healthy" and statuses[never] == "never"
    assert all(item["next_sync_at"] is not None for item in listing)
    assert all((item["suspended_reason"] is not None) == item["suspended"] for item in listing)
    logon = next(item["logon"] for item in listing if item["user_id"] == errors)
    assert ids(logon=logon.upper()) == [errors]
    assert ids(logon="nobody") == []
    refused = client.get("/api/v1/users", params={"status": "fine"}, headers=admin_headers)
    assert refused.status_code == 422 and "status" in refused.json()["detail"]


def test_a_stopped_users_manual_sync_is_409_unless_forced(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    user = db.get(SyncUser, user_id)
    assert user is not None
    user.suspended, user.suspended_reason = True, "Exchange refused the credentials"
    db.commit()
    refused = client.post(f"/api/v1/users/{user_id}/sync", headers=admin_headers)
    assert refused.status_code == 409
    assert "suspended" in refused.json()["detail"] and "force" in refused.json()["detail"]
    forced = client.post(f"/api/v1/users/{user_id}/sync?force=true", headers=admin_headers)
    assert forced.status_code == 202, forced.text
    run = db.get(SyncRun, forced.json()["run_id"])
    assert run is not None and run.trigger == "forced"


def test_informational_entries_are_not_open_and_cannot_be_acted_on(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    run = _run(db, user_id, RunStatus.SUCCESS)
    entry = RunEntry(
        run_id=run.id,
        user_id=user_id,
        entity="contacts",
        level=EntryLevel.INFO,
        crm_id="7",
        message="linked",
        state="informational",
    )
    db.add(entry)
    db.commit()
    for action in ("retry", "skip"):
        response = client.post(f"/api/v1/log-entries/{entry.id}/{action}", headers=admin_headers)
        assert response.status_code == 409, response.text
        assert "informational" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/runs", {"status": "success WITH errors"}),
        ("/api/v1/log-entries", {"level": "WARNING", "entity": "Contacts"}),
        ("/api/v1/conflicts", {"status": "OPEN", "entity": "TASKS"}),
        ("/api/v1/imports", {"status": "Done"}),
        ("/api/v1/users", {"status": "Never"}),
    ],
)
def test_enum_filters_accept_any_letter_case(
    client: TestClient, admin_headers: dict[str, str], path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params, headers=admin_headers)
    assert response.status_code == 200, response.text


def test_runs_keep_the_contracts_spelling(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    _run(db, sync_user(db), RunStatus.SUCCESS_WITH_ERRORS)
    db.commit()
    response = client.get(
        "/api/v1/runs", params={"status": "SUCCESS with ERRORS"}, headers=admin_headers
    )
    assert [run["status"] for run in response.json()["items"]] == ["Success with errors"]


@dataclass
class FakeProbe:
    ok: bool
    seen: list[MailboxConnection]

    def test_connection(self, connection: MailboxConnection) -> ProbeResult:
        self.seen.append(connection)
        return ProbeResult(ok=self.ok, detail="Exchange refused the credentials (HTTP 401)")


def test_adding_a_user_checks_the_connection_first(
    database: Database, admin_headers: dict[str, str], db: Session
) -> None:
    probe = FakeProbe(ok=False, seen=[])
    with TestClient(create_app(database=database, mailbox_probe=probe)) as client:
        refused = client.post("/api/v1/users", json=NEW_USER, headers=admin_headers)
        assert refused.status_code == 422
        assert "refused the credentials" in refused.json()["detail"]
        assert [c.secret for c in probe.seen] == ["pw"]
        assert client.get("/api/v1/users", headers=admin_headers).json()["items"] == []
        unchecked = {**NEW_USER, "check_connection": False}
        created = client.post("/api/v1/users", json=unchecked, headers=admin_headers)
        assert created.status_code == 201, created.text
        assert len(probe.seen) == 1
        assert created.json()["status"] == "never"


def test_imports_are_listed_newest_first_in_pages(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    jobs = [
        ContactImport(
            status=ImportStatus.DONE,
            format=ImportFormat.CSV,
            file_name=f"contacts-{n}.csv",
            file_path=f"/imports/contacts-{n}.csv",
        )
        for n in range(2)
    ]
    db.add_all(jobs)
    db.commit()
    first, second = (job.id for job in jobs)
    page = client.get("/api/v1/imports", params={"limit": 1}, headers=admin_headers).json()
    assert [item["import_id"] for item in page["items"]] == [second]
    rest = client.get(
        "/api/v1/imports", params={"cursor": page["next_cursor"]}, headers=admin_headers
    ).json()
    assert [item["import_id"] for item in rest["items"]] == [first]
