"""Field mappings and the task-status mapping: defaults, validation, replacement, reset."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from app.kit.sync_policy import Direction
from app.mappings.schemas import CrmTaskStatus, FieldMapping, OutlookTaskStatus
from app.mappings.service import get_mapping, get_task_status_mapping
from app.sync_settings.schemas import SyncEntity
from tests.factories.headers import user_with_headers

APPOINTMENT_ROWS = [
    {"crm": "comm_subject", "outlook": "subject", "direction": "both"},
    {"crm": "comm_datetime", "outlook": "start", "direction": "both"},
    {"crm": "comm_todatetime", "outlook": "end", "direction": "crm_to_outlook"},
]
TASK_STATUS = {
    "to_crm": {
        "NotStarted": "Pending",
        "InProgress": "In Progress",
        "WaitingOnOthers": "In Progress",
        "Deferred": "Cancelled",
        "Completed": "Complete",
    },
    "to_outlook": {
        "Pending": "NotStarted",
        "In Progress": "InProgress",
        "Complete": "Completed",
        "Cancelled": "Deferred",
    },
}


def test_defaults(client: TestClient, admin_headers: dict[str, str]) -> None:
    contacts = client.get("/api/v1/mappings/contacts", headers=admin_headers).json()
    assert len(contacts) == 20
    assert {"crm": "email.Business", "outlook": "email1", "direction": "both"} in contacts
    assert {"crm": "address.street", "outlook": "business_street", "direction": "both"} in contacts
    appointments = client.get("/api/v1/mappings/appointments", headers=admin_headers).json()
    assert {row["outlook"] for row in appointments} >= {"subject", "start", "end", "recurrence"}
    tasks = client.get("/api/v1/mappings/tasks", headers=admin_headers).json()
    assert {"crm": "comm_datetime", "outlook": "due_date", "direction": "both"} in tasks
    assert client.get("/api/v1/mappings/emails", headers=admin_headers).status_code == 422

    statuses = client.get("/api/v1/mappings/task-status", headers=admin_headers).json()
    assert statuses["to_crm"]["WaitingOnOthers"] == "Pending"
    assert statuses["to_outlook"]["Cancelled"] == "NotStarted"


def test_replace_read_back_and_reset(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    response = client.put(
        "/api/v1/mappings/appointments", json=APPOINTMENT_ROWS, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == APPOINTMENT_ROWS
    assert client.get("/api/v1/mappings/appointments", headers=admin_headers).json() == (
        APPOINTMENT_ROWS
    )
    assert get_mapping(db, SyncEntity.APPOINTMENTS)[2] == FieldMapping(
        crm="comm_todatetime", outlook="end", direction=Direction.CRM_TO_OUTLOOK
    )
    # Other entities keep their defaults.
    assert len(get_mapping(db, SyncEntity.TASKS)) == 10

    reset = client.delete("/api/v1/mappings/appointments", headers=admin_headers)
    assert reset.status_code == 200
    assert len(reset.json()) == 12
    assert len(get_mapping(db, SyncEntity.APPOINTMENTS)) == 12


def test_direction_defaults_to_both(client: TestClient, admin_headers: dict[str, str]) -> None:
    rows = [{"crm": "comm_subject", "outlook": "subject"}]
    response = client.put("/api/v1/mappings/tasks", json=rows, headers=admin_headers)
    assert response.json() == [{"crm": "comm_subject", "outlook": "subject", "direction": "both"}]


@pytest.mark.parametrize(
    ("entity", "rows", "expected"),
    [
        (
            "contacts",
            [
                {"crm": "pers_firstname", "outlook": "first_name"},
                {"crm": "pers_lastname", "outlook": "last_name"},
                {"crm": "pers_foo", "outlook": "nickname"},
            ],
            "body.2.crm: unknown CRM column 'pers_foo' for contacts; known: pers_salutation",
        ),
        (
            "contacts",
            [{"crm": "pers_firstname", "outlook": "fax_number"}],
            "body.0.outlook: unknown Outlook field 'fax_number' for contacts",
        ),
        (
            "tasks",
            [{"crm": "comm_nosuchcolumn", "outlook": "subject"}],
            "body.0.crm: 'comm_nosuchcolumn' is not a text column of the communication table",
        ),
        (
            "contacts",
            [
                {"crm": "pers_firstname", "outlook": "first_name"},
                {"crm": "pers_middlename", "outlook": "first_name"},
            ],
            "body.1.outlook: 'first_name' is already mapped in row 0",
        ),
        (
            "contacts",
            [
                {"crm": "email.Business", "outlook": "email1"},
                {"crm": "email.Business", "outlook": "email2"},
            ],
            "body.1.crm: 'email.Business' is already mapped in row 0",
        ),
        (
            "contacts",
            [{"crm": "pers_title", "outlook": "job_title"}],
            "body: the contacts mapping needs at least one of the Outlook fields "
            "first_name, last_name, email1",
        ),
        (
            "appointments",
            [{"crm": "comm_subject", "outlook": "subject"}],
            "body: the appointments mapping needs the Outlook fields start, end",
        ),
        ("tasks", [], "body: the tasks mapping needs the Outlook fields subject"),
        (
            "appointments",
            [
                {"crm": "comm_subject", "outlook": "subject"},
                {"crm": "comm_note", "outlook": "start"},
                {"crm": "comm_todatetime", "outlook": "end"},
            ],
            "body.1.crm: appointments keep 'start' in 'comm_datetime'",
        ),
        (
            "tasks",
            [{"crm": "comm_subject", "outlook": "subject", "direction": "sideways"}],
            "body.0.direction",
        ),
        ("tasks", [{"crm": "comm_subject"}], "body.0.outlook"),
        ("tasks", {"crm": "comm_subject", "outlook": "subject"}, "body"),
    ],
)
def test_invalid_mappings_are_refused_naming_the_row(
    client: TestClient,
    admin_headers: dict[str, str],
    entity: str,
    rows: object,
    expected: str,
) -> None:
    response = client.put(f"/api/v1/mappings/{entity}", json=rows, headers=admin_headers)
    assert response.status_code == 422
    assert expected in response.json()["detail"]


def test_task_status_mapping(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    response = client.put("/api/v1/mappings/task-status", json=TASK_STATUS, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json() == TASK_STATUS
    stored = get_task_status_mapping(db)
    assert stored.to_crm[OutlookTaskStatus.DEFERRED] is CrmTaskStatus.CANCELLED
    assert stored.to_outlook["Cancelled"] == "Deferred"  # the engine looks statuses up by value

    reset = client.delete("/api/v1/mappings/task-status", headers=admin_headers)
    assert reset.json()["to_crm"]["Deferred"] == "Pending"
    assert get_task_status_mapping(db).to_crm[OutlookTaskStatus.DEFERRED] is CrmTaskStatus.PENDING


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {**TASK_STATUS, "to_crm": {"NotStarted": "Pending"}},
            "body.to_crm: Value error, every status needs a mapping; missing: InProgress, "
            "Completed, WaitingOnOthers, Deferred",
        ),
        (
            {**TASK_STATUS, "to_outlook": {**TASK_STATUS["to_outlook"], "Pending": "Started"}},
            "body.to_outlook.Pending",
        ),
        (
            {**TASK_STATUS, "to_outlook": {**TASK_STATUS["to_outlook"], "Open": "NotStarted"}},
            "body.to_outlook.Open.[key]",
        ),
        ({"to_crm": TASK_STATUS["to_crm"]}, "body.to_outlook: Field required"),
    ],
)
def test_invalid_task_status_mappings(
    client: TestClient, admin_headers: dict[str, str], body: object, expected: str
) -> None:
    response = client.put("/api/v1/mappings/task-status", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert expected in response.json()["detail"]


def test_users_neither_read_nor_change_mappings(client: TestClient, db: Session) -> None:
    _user_id, headers = user_with_headers(db, "erin")
    assert client.get("/api/v1/mappings/contacts", headers=headers).status_code == 403
    assert client.get("/api/v1/mappings/task-status", headers=headers).status_code == 403
    rows = [{"crm": "comm_subject", "outlook": "subject"}]
    assert client.put("/api/v1/mappings/tasks", json=rows, headers=headers).status_code == 403
    assert client.delete("/api/v1/mappings/tasks", headers=headers).status_code == 403
    put = client.put("/api/v1/mappings/task-status", json=TASK_STATUS, headers=headers)
    assert put.status_code == 403
    assert client.get("/api/v1/mappings/tasks").status_code == 401


def test_text_fields_of_appointments_and_tasks_may_move_to_another_column(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    # A custom column of the communication table, as Sage lets an administrator add one.
    db.execute(sql("ALTER TABLE communication ADD COLUMN comm_custom_place VARCHAR(80)"))
    rows = [
        {"crm": "comm_note", "outlook": "subject"},
        {"crm": "comm_custom_place", "outlook": "location"},
        {"crm": "comm_datetime", "outlook": "start"},
        {"crm": "comm_todatetime", "outlook": "end"},
    ]
    response = client.put("/api/v1/mappings/appointments", json=rows, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert [row["crm"] for row in response.json()][:2] == ["comm_note", "comm_custom_place"]
