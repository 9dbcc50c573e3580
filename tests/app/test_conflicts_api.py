"""Conflict review and resolution, confirming held deletions, and the tagged JSON codec."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit import tagged_json
from app.models.sync import ConflictStatus, FolderState, RunStatus, SyncLink, SyncRun
from tests.factories.headers import user_with_headers
from tests.factories.sync_state import sync_conflict, sync_link, sync_run
from tests.factories.users import sync_user

DUE = datetime(2025, 3, 30, 9, 30)


@pytest.mark.parametrize(
    ("value", "encoded", "plain"),
    [
        ("text", "text", "text"),
        (3, 3, 3),
        (2.5, 2.5, 2.5),
        (None, None, None),
        (True, {"bool": True}, True),
        (DUE, {"datetime": "2025-03-30T09:30:00"}, "2025-03-30T09:30:00"),
        (
            (datetime(2025, 1, 1, tzinfo=UTC), ("a", False)),
            {
                "tuple": [
                    {"datetime": "2025-01-01T00:00:00+00:00"},
                    {"tuple": ["a", {"bool": False}]},
                ]
            },
            ["2025-01-01T00:00:00+00:00", ["a", False]],
        ),
    ],
)
def test_tagged_json_round_trip(value: Any, encoded: Any, plain: Any) -> None:
    assert tagged_json.encode(value) == encoded
    assert tagged_json.decode(encoded) == value
    assert type(tagged_json.decode(encoded)) is type(value)
    assert tagged_json.to_plain(encoded) == plain


@pytest.mark.parametrize("bad", [[1, 2], {"list": []}, {"datetime": 5}, {"a": 1, "b": 2}])
def test_tagged_json_refuses_untagged_structures(bad: Any) -> None:
    with pytest.raises(ValueError, match="not a tagged JSON value"):
        tagged_json.decode(bad)


def test_list_and_read_conflicts(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    link = sync_link(db, user_id)
    open_conflict = sync_conflict(
        db, link, field="due_date", crm_value=DUE, outlook_value=None, base_value=(1, True)
    )
    recorded = sync_conflict(db, link, status=ConflictStatus.RECORDED)
    contact = sync_conflict(db, sync_link(db, user_id, entity="contacts", held=False))
    db.commit()

    listing = client.get("/api/v1/conflicts", headers=admin_headers).json()
    assert [c["id"] for c in listing["items"]] == [contact.id, recorded.id, open_conflict.id]
    by_status = client.get("/api/v1/conflicts?status=open&entity=tasks", headers=admin_headers)
    assert [c["id"] for c in by_status.json()["items"]] == [open_conflict.id]
    by_user = client.get(f"/api/v1/conflicts?user_id={user_id + 1}", headers=admin_headers)
    assert by_user.json()["items"] == []

    detail = client.get(f"/api/v1/conflicts/{open_conflict.id}", headers=admin_headers).json()
    assert detail["field"] == "due_date"
    assert detail["crm_value"] == "2025-03-30T09:30:00"
    assert detail["outlook_value"] is None
    assert detail["base_value"] == [1, True]
    assert detail["crm_id"] == "101" and detail["remote_id"] == "AAMk-tasks-101"
    assert detail["status"] == "open" and detail["applied"] == "nothing"
    assert detail["resolved_at"] is None
    assert client.get("/api/v1/conflicts/999999", headers=admin_headers).status_code == 404


def _link(db: Session, link_id: int) -> SyncLink:
    db.expire_all()
    link = db.get(SyncLink, link_id)
    assert link is not None
    return link


def test_resolve_sets_the_pending_value_and_unholds_the_link_last(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    link = sync_link(db, user_id)
    subject = sync_conflict(db, link)
    due = sync_conflict(db, link, field="due_date", crm_value=DUE, outlook_value=None)
    db.commit()

    response = client.post(
        f"/api/v1/conflicts/{subject.id}/resolve", json={"apply": "outlook"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "resolved" and body["applied"] == "outlook"
    assert body["decided_by"] == "admin" and body["resolved_at"] is not None
    stored = _link(db, link.id)
    assert stored.pending == {"subject": "Outlook subject"}
    assert stored.held is True  # the due date is still open

    client.post(f"/api/v1/conflicts/{due.id}/resolve", json={"apply": "crm"}, headers=admin_headers)
    stored = _link(db, link.id)
    assert stored.pending == {
        "subject": "Outlook subject",
        "due_date": {"datetime": DUE.isoformat()},
    }
    assert tagged_json.decode(stored.pending["due_date"]) == DUE
    assert stored.held is False

    # Re-applying the other side of a resolved conflict is allowed.
    again = client.post(
        f"/api/v1/conflicts/{subject.id}/resolve", json={"apply": "crm"}, headers=admin_headers
    )
    assert again.status_code == 200 and again.json()["applied"] == "crm"
    assert _link(db, link.id).pending["subject"] == "CRM subject"


def test_resolve_errors(client: TestClient, admin_headers: dict[str, str], db: Session) -> None:
    user_id = sync_user(db)
    link = sync_link(db, user_id)
    conflict = sync_conflict(db, link)
    db.delete(link)
    db.commit()

    gone = client.post(
        f"/api/v1/conflicts/{conflict.id}/resolve", json={"apply": "crm"}, headers=admin_headers
    )
    assert gone.status_code == 409
    assert "no longer synchronized" in gone.json()["detail"]
    bad = client.post(
        f"/api/v1/conflicts/{conflict.id}/resolve", json={"apply": "both"}, headers=admin_headers
    )
    assert bad.status_code == 422 and "body.apply" in bad.json()["detail"]
    missing = client.post(
        "/api/v1/conflicts/999999/resolve", json={"apply": "crm"}, headers=admin_headers
    )
    assert missing.status_code == 404


def test_users_see_and_resolve_only_their_own_conflicts(client: TestClient, db: Session) -> None:
    own_id, headers = user_with_headers(db, "hank")
    other_id = sync_user(db)
    own = sync_conflict(db, sync_link(db, own_id))
    other = sync_conflict(db, sync_link(db, other_id))
    db.commit()

    listing = client.get(f"/api/v1/conflicts?user_id={other_id}", headers=headers).json()
    assert [c["id"] for c in listing["items"]] == [own.id]
    assert client.get(f"/api/v1/conflicts/{other.id}", headers=headers).status_code == 404
    foreign = client.post(
        f"/api/v1/conflicts/{other.id}/resolve", json={"apply": "crm"}, headers=headers
    )
    assert foreign.status_code == 404
    mine = client.post(
        f"/api/v1/conflicts/{own.id}/resolve", json={"apply": "crm"}, headers=headers
    )
    assert mine.status_code == 200


def test_confirm_deletions(
    client: TestClient,
    admin_headers: dict[str, str],
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enqueued: list[tuple[Any, ...]] = []
    monkeypatch.setattr("app.kit.jobs.enqueue", lambda *args, **_kw: enqueued.append(args))
    user_id = sync_user(db)
    held = sync_run(db, user_id, deletions_held=True)
    calm = sync_run(db, user_id)
    db.add(FolderState(user_id=user_id, entity="contacts", sync_state="state-1"))
    db.commit()

    refused = client.post(f"/api/v1/runs/{calm.id}/confirm-deletions", headers=admin_headers)
    assert refused.status_code == 409
    missing = client.post("/api/v1/runs/999999/confirm-deletions", headers=admin_headers)
    assert missing.status_code == 404

    response = client.post(f"/api/v1/runs/{held.id}/confirm-deletions", headers=admin_headers)
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    db.expire_all()
    states = db.scalars(select(FolderState).where(FolderState.user_id == user_id)).all()
    assert {(s.entity, s.deletions_confirmed) for s in states} == {
        ("contacts", True),
        ("appointments", True),
        ("tasks", True),
    }
    assert next(s for s in states if s.entity == "contacts").sync_state == "state-1"
    queued = db.get(SyncRun, run_id)
    assert queued is not None and queued.status == RunStatus.QUEUED
    assert queued.trigger == "confirm"
    assert enqueued == [("sync.user", user_id, run_id)]


def test_confirm_deletions_needs_an_admin(client: TestClient, db: Session) -> None:
    user_id, headers = user_with_headers(db, "ivy")
    held = sync_run(db, user_id, deletions_held=True)
    db.commit()
    response = client.post(f"/api/v1/runs/{held.id}/confirm-deletions", headers=headers)
    assert response.status_code == 403
