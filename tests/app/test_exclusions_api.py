"""Exclusion rules: the API, its validation, and the matching the engine relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.exclusions.schemas import ExclusionOperator, ExclusionRule
from app.exclusions.service import is_excluded, list_rules
from app.sync_settings.schemas import SyncEntity
from tests.factories.headers import user_with_headers


def rule(
    operator: str, value: str | list[str] | None = None, field: str = "comm_status"
) -> ExclusionRule:
    return ExclusionRule(
        id=1,
        entity=SyncEntity.TASKS,
        field=field,
        operator=ExclusionOperator(operator),
        value=value,
        description=None,
        created_at=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("operator", "value", "actual", "excluded"),
    [
        ("equals", "Cancelled", "cancelled", True),
        ("equals", "Cancelled", " CANCELLED ", True),
        ("equals", "Cancelled", "Complete", False),
        ("equals", "Cancelled", None, False),
        ("not_equals", "Pending", "Complete", True),
        ("not_equals", "Pending", "PENDING", False),
        ("not_equals", "Pending", None, True),
        ("contains", "internal", "An INTERNAL meeting", True),
        ("contains", "internal", "Customer call", False),
        ("contains", "internal", None, False),
        ("in", ["Cancelled", "Complete"], "complete", True),
        ("in", ["Cancelled", "Complete"], "Pending", False),
        ("is_empty", None, None, True),
        ("is_empty", None, "  ", True),
        ("is_empty", None, "x", False),
        ("is_not_empty", None, "x", True),
        ("is_not_empty", None, None, False),
        ("equals", "42", 42, True),
    ],
)
def test_is_excluded_per_operator(
    operator: str, value: str | list[str] | None, actual: Any, excluded: bool
) -> None:
    matching = rule(operator, value)
    assert (is_excluded([matching], {"comm_status": actual}) is matching) is excluded


def test_is_excluded_returns_the_first_matching_rule() -> None:
    private = rule("equals", "Y", field="comm_private")
    cancelled = rule("equals", "Cancelled")
    row = {"comm_private": None, "comm_status": "Cancelled"}
    assert is_excluded([private, cancelled], row) is cancelled
    assert is_excluded([private], row) is None
    assert is_excluded([], row) is None
    # A column the row does not carry counts as empty.
    assert is_excluded([rule("is_empty", field="comm_location")], row) is not None


def test_create_list_delete(client: TestClient, admin_headers: dict[str, str], db: Session) -> None:
    created = client.post(
        "/api/v1/exclusions",
        json={
            "entity": "appointments",
            "field": "comm_subject",
            "operator": "contains",
            "value": "[private]",
            "description": "personal appointments stay in the CRM",
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["entity"] == "appointments" and body["value"] == "[private]"
    other = client.post(
        "/api/v1/exclusions",
        json={"entity": "contacts", "field": "pers_status", "operator": "in", "value": ["Lost"]},
        headers=admin_headers,
    ).json()

    listing = client.get("/api/v1/exclusions", headers=admin_headers).json()
    assert [r["id"] for r in listing["items"]] == [body["id"], other["id"]]
    filtered = client.get("/api/v1/exclusions?entity=contacts", headers=admin_headers).json()
    assert [r["id"] for r in filtered["items"]] == [other["id"]]
    first_page = client.get("/api/v1/exclusions?limit=1", headers=admin_headers).json()
    assert first_page["next_cursor"] is not None

    rules = list_rules(db, SyncEntity.APPOINTMENTS)
    assert [r.id for r in rules] == [body["id"]]
    assert is_excluded(rules, {"comm_subject": "Dentist [PRIVATE]"}) == rules[0]
    assert list_rules(db, SyncEntity.TASKS) == []

    deleted = client.delete(f"/api/v1/exclusions/{body['id']}", headers=admin_headers)
    assert deleted.status_code == 204
    again = client.delete(f"/api/v1/exclusions/{body['id']}", headers=admin_headers)
    assert again.status_code == 404
    assert list_rules(db, SyncEntity.APPOINTMENTS) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"entity": "contacts", "field": "comm_subject", "operator": "equals", "value": "x"},
            "body.field: Value error, unknown CRM column 'comm_subject' for contacts",
        ),
        (
            {"entity": "tasks", "field": "pers_firstname", "operator": "equals", "value": "x"},
            "body.field: Value error, unknown CRM column 'pers_firstname' for tasks",
        ),
        (
            {"entity": "tasks", "field": "comm_nonsense", "operator": "equals", "value": "x"},
            "body.field",
        ),
        (
            {"entity": "tasks", "field": "comm_status", "operator": "in", "value": "Pending"},
            "body.value: Value error, operator 'in' needs a non-empty list",
        ),
        (
            {"entity": "tasks", "field": "comm_status", "operator": "in", "value": []},
            "body.value",
        ),
        (
            {"entity": "tasks", "field": "comm_status", "operator": "is_empty", "value": "x"},
            "body.value: Value error, operator is_empty takes no value",
        ),
        (
            {"entity": "tasks", "field": "comm_status", "operator": "equals"},
            "body.value: Value error, operator equals compares with a string value",
        ),
        (
            {"entity": "tasks", "field": "comm_status", "operator": "contains", "value": ["a"]},
            "body.value",
        ),
        (
            {"entity": "tasks", "field": "comm_status", "operator": "like", "value": "a"},
            "body.operator",
        ),
        ({"entity": "emails", "field": "comm_status", "operator": "equals"}, "body.entity"),
    ],
)
def test_invalid_rules_name_the_field(
    client: TestClient, admin_headers: dict[str, str], body: dict[str, Any], expected: str
) -> None:
    response = client.post("/api/v1/exclusions", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert expected in response.json()["detail"]


def test_users_neither_read_nor_change_rules(client: TestClient, db: Session) -> None:
    _user_id, headers = user_with_headers(db, "gina")
    assert client.get("/api/v1/exclusions", headers=headers).status_code == 403
    body = {"entity": "tasks", "field": "comm_status", "operator": "is_empty"}
    assert client.post("/api/v1/exclusions", json=body, headers=headers).status_code == 403
    assert client.delete("/api/v1/exclusions/1", headers=headers).status_code == 403
