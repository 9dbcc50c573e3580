"""Sync settings: defaults, global values, per-user overrides and what the engine resolves."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.kit.sync_policy import ConflictPolicy, Direction, OutlookDeleteMode
from app.models.sync import SettingsScope
from app.sync_settings.schemas import SyncEntity
from app.sync_settings.service import effective_settings
from tests.factories.headers import user_with_headers
from tests.factories.users import sync_user

DEFAULT_ENTITY = {"enabled": True, "direction": "both", "conflict_policy": "most_recent"}
DEFAULTS = {
    "contacts": {**DEFAULT_ENTITY, "on_outlook_delete": "unflag"},
    "appointments": {**DEFAULT_ENTITY, "on_outlook_delete": "delete"},
    "tasks": {**DEFAULT_ENTITY, "on_outlook_delete": "delete"},
    "interval_minutes": 15,
    "auto_sync": True,
    "first_sync_days": 14,
    "mass_delete_threshold": 0.5,
    "mass_delete_minimum": 10,
    "sync_private": False,
    "log_level": "info",
    "log_retention_days": 30,
    "crm_timezone": "UTC",
    "create_unknown_companies": False,
}


def test_defaults(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/settings", headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == DEFAULTS


def test_global_put_sets_only_what_it_names_and_null_restores_the_default(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    response = client.put(
        "/api/v1/settings",
        json={"interval_minutes": 30, "tasks": {"direction": "crm_to_outlook"}},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interval_minutes"] == 30
    assert body["tasks"] == {**DEFAULTS["tasks"], "direction": "crm_to_outlook"}

    client.put("/api/v1/settings", json={"auto_sync": False}, headers=admin_headers)
    stored = db.get(SettingsScope, "global")
    assert stored is not None
    # The migrations seed crm_timezone (from CRMSYNC_CRM_TIMEZONE); some tests wipe it.
    assert {k: v for k, v in stored.values.items() if k != "crm_timezone"} == {
        "interval_minutes": 30,
        "tasks": {"direction": "crm_to_outlook"},
        "auto_sync": False,
    }

    response = client.put(
        "/api/v1/settings", json={"interval_minutes": None, "tasks": None}, headers=admin_headers
    )
    assert response.json() == {**DEFAULTS, "auto_sync": False}


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"interval_minutes": 0}, "body.interval_minutes"),
        ({"interval_minutes": 1441}, "body.interval_minutes"),
        ({"first_sync_days": 366}, "body.first_sync_days"),
        ({"first_sync_days": -1}, "body.first_sync_days"),
        ({"mass_delete_threshold": 0}, "body.mass_delete_threshold"),
        ({"mass_delete_threshold": 1.5}, "body.mass_delete_threshold"),
        ({"mass_delete_minimum": -1}, "body.mass_delete_minimum"),
        ({"log_level": "verbose"}, "body.log_level"),
        ({"log_retention_days": 0}, "body.log_retention_days"),
        ({"log_retention_days": 3651}, "body.log_retention_days"),
        ({"crm_timezone": "Mars/Olympus"}, "body.crm_timezone"),
        ({"auto_sync": "sometimes"}, "body.auto_sync"),
        ({"contacts": {"direction": "sideways"}}, "body.contacts.direction"),
        ({"tasks": {"conflict_policy": "coin_toss"}}, "body.tasks.conflict_policy"),
        ({"appointments": {"on_outlook_delete": "unflag"}}, "body.appointments.on_outlook_delete"),
        ({"tasks": {"on_outlook_delete": "unflag"}}, "body.tasks.on_outlook_delete"),
        ({"contacts": {"colour": "red"}}, "body.contacts.colour"),
        ({"sync_everything": True}, "body.sync_everything"),
    ],
)
def test_invalid_values_name_the_field(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, object], location: str
) -> None:
    response = client.put("/api/v1/settings", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert location in response.json()["detail"]


def test_valid_edge_values(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = {
        "interval_minutes": 1440,
        "first_sync_days": 0,
        "mass_delete_threshold": 1,
        "mass_delete_minimum": 0,
        "log_retention_days": 3650,
        "crm_timezone": "America/New_York",
        "contacts": {"on_outlook_delete": "unlink", "conflict_policy": "review"},
    }
    response = client.put("/api/v1/settings", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json()["crm_timezone"] == "America/New_York"


def test_user_overrides_inherit_from_global(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    other_id = sync_user(db)
    db.commit()
    client.put(
        "/api/v1/settings",
        json={"interval_minutes": 60, "contacts": {"conflict_policy": "crm_wins"}},
        headers=admin_headers,
    )
    response = client.put(
        f"/api/v1/users/{user_id}/settings",
        json={"sync_private": True, "contacts": {"direction": "outlook_to_crm"}},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == user_id
    assert body["overrides"]["sync_private"] is True
    assert body["overrides"]["interval_minutes"] is None
    assert body["overrides"]["contacts"]["direction"] == "outlook_to_crm"
    assert body["overrides"]["contacts"]["conflict_policy"] is None
    assert body["overrides"]["tasks"] is None
    assert body["effective"]["sync_private"] is True
    assert body["effective"]["interval_minutes"] == 60
    assert body["effective"]["contacts"] == {
        "enabled": True,
        "direction": "outlook_to_crm",
        "conflict_policy": "crm_wins",
        "on_outlook_delete": "unflag",
    }

    # A later global change reaches the user where they inherit.
    client.put("/api/v1/settings", json={"interval_minutes": 5}, headers=admin_headers)
    effective = effective_settings(db, user_id)
    assert effective.interval_minutes == 5
    assert effective.for_entity(SyncEntity.CONTACTS).direction is Direction.OUTLOOK_TO_CRM
    assert effective.contacts.conflict_policy is ConflictPolicy.CRM_WINS
    assert effective.tasks.on_outlook_delete is OutlookDeleteMode.DELETE
    assert effective_settings(db, other_id).sync_private is False

    # A null override inherits again.
    client.put(
        f"/api/v1/users/{user_id}/settings", json={"sync_private": None}, headers=admin_headers
    )
    assert effective_settings(db, user_id).sync_private is False


def test_user_settings_validation_and_unknown_users(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    user_id = sync_user(db)
    db.commit()
    response = client.put(
        f"/api/v1/users/{user_id}/settings",
        json={"appointments": {"on_outlook_delete": "unflag"}},
        headers=admin_headers,
    )
    assert response.status_code == 422
    assert "body.appointments.on_outlook_delete" in response.json()["detail"]
    assert client.get("/api/v1/users/999999/settings", headers=admin_headers).status_code == 404
    missing = client.put("/api/v1/users/999999/settings", json={}, headers=admin_headers)
    assert missing.status_code == 404


def test_user_token_reads_its_own_settings_only(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    own, headers = user_with_headers(db, "dora")
    other = sync_user(db)
    db.commit()
    # The global configuration is an administrator's: a user reads what applies to them.
    for path in (
        "/api/v1/settings",
        "/api/v1/mappings/contacts",
        "/api/v1/mappings/task-status",
        "/api/v1/templates/tasks",
        "/api/v1/exclusions",
    ):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403, (path, refused.text)
        assert client.get(path, headers=admin_headers).status_code == 200, path
    assert client.put("/api/v1/settings", json={}, headers=headers).status_code == 403
    me = client.get("/api/v1/users/me/settings", headers=headers)
    assert me.status_code == 200 and me.json()["user_id"] == own
    assert me.json()["effective"]["interval_minutes"] == 15
    assert client.get(f"/api/v1/users/{own}/settings", headers=headers).status_code == 200
    assert client.get(f"/api/v1/users/{other}/settings", headers=headers).status_code == 404
    forbidden = client.put(f"/api/v1/users/{own}/settings", json={}, headers=headers)
    assert forbidden.status_code == 403
    assert client.get("/api/v1/settings").status_code == 401


def test_effective_settings_costs_one_query(db: Session) -> None:
    user_id = sync_user(db)
    db.flush()
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        effective_settings(db, user_id)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert len(statements) == 1
