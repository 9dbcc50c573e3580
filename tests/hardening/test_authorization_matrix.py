"""Every route by every kind of caller: who gets in, and what everyone else is told.

The callers: no token, a token crmsync never issued, a user token of another user, the owner's
user token and an admin key. Each route says who may use it (its `Access`); the expected status
of each cell follows from that. The requests name the owner's resources and carry valid bodies,
so an allowed cell really succeeds. Every cell runs in a savepoint rolled back afterwards, so
a deletion in one cell does not change the next.

A route the app serves but this table does not list fails `test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from starlette.routing import Mount

from app.addin import links
from app.auth import service as auth_service
from app.config import get_settings
from app.kit.clock import utc_now
from app.kit.crypto import token_digest
from app.mappings import service as mappings_service
from app.models.auth import ApiKey
from app.models.sync import Alert, EntryLevel, RunEntry
from app.sync_settings.schemas import SyncEntity
from app.templates import service as templates_service
from tests.factories import crm_records
from tests.factories.headers import user_with_headers
from tests.factories.licensing import set_seats
from tests.factories.sync_state import sync_conflict, sync_link, sync_run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EMAIL = (FIXTURES / "mail" / "multipart-alternative.eml").read_bytes()
CONTACTS_CSV = (FIXTURES / "imports" / "outlook_utf8_bom.csv").read_bytes()


class Access(Enum):
    PUBLIC = "public: no token needed"
    ANY_TOKEN = "any valid token (the answer is the caller's own view)"
    OWNER = "the owner's user token or an admin key"
    ADMIN = "an admin key only"


CALLERS = ("no token", "wrong token", "other user", "own user", "admin")

# The refusals each kind of route gives; a caller not listed is let in.
REFUSALS: dict[Access, dict[str, int]] = {
    Access.PUBLIC: {},
    Access.ANY_TOKEN: {"no token": 401, "wrong token": 401},
    # A user must not learn that another user's resources exist: 404, not 403.
    Access.OWNER: {"no token": 401, "wrong token": 401, "other user": 404},
    Access.ADMIN: {"no token": 401, "wrong token": 401, "other user": 403, "own user": 403},
}


@dataclass(frozen=True)
class World:
    """The owner's resources the requests name, and the headers of every caller."""

    path_values: dict[str, str]
    headers: dict[str, dict[str, str]]
    owner_id: int
    company_id: int
    document_id: int
    manifest_link: str
    mapping: list[Any]
    task_status_mapping: dict[str, Any]
    template: dict[str, Any]


Request = Callable[[World], dict[str, Any]]


def _nothing(_world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    access: Access
    allowed_status: int
    request: Request = _nothing
    path_values: dict[str, str] = field(default_factory=dict)
    # For routes that are not templates of a URL (mounted directories).
    url: str | None = None
    # A placeholder filled with another of the world's values, e.g. a private document's id.
    path_aliases: dict[str, str] = field(default_factory=dict)

    def target(self, world: World) -> str:
        aliased = {name: world.path_values[key] for name, key in self.path_aliases.items()}
        return self.url or self.route.format(**{**world.path_values, **self.path_values, **aliased})


def _filing_form(world: World, *, with_targets: bool) -> dict[str, Any]:
    data = {"user_id": str(world.owner_id)}
    if with_targets:
        data["targets"] = json.dumps([{"entity": "company", "id": world.company_id}])
    return {"files": [("files", ("mail.eml", EMAIL, "message/rfc822"))], "data": data}


NEW_SYNC_USER = {
    "logon": "carol",
    "first_name": "Carol",
    "last_name": "Clark",
    "mailbox": "carol@example.com",
    "ews_url": "https://mail.example.com/EWS/Exchange.asmx",
    "auth": {"type": "basic", "username": "carol@example.com", "password": "pw-carol"},
    "check_connection": False,
}
NEW_CONNECTION = {
    "name": "contoso",
    "ews_url": "https://mail.contoso.com/EWS/Exchange.asmx",
    "auth": "basic",
    "username": "svc@contoso.com",
    "password": "pw-svc",
    "impersonation": True,
}
LICENCES = {"seats_total": 10, "plugin_timeout_minutes": 30, "browser_timeout_minutes": 30}
EXCLUSION = {"entity": "contacts", "field": "pers_lastname", "operator": "equals", "value": "X"}
V1 = "/api/v1"
PUBLIC, ANY_TOKEN, OWNER, ADMIN = Access

MATRIX = [
    Row("GET", "/openapi.json", PUBLIC, 200),
    Row("GET", "/docs", PUBLIC, 200),
    Row("GET", "/docs/oauth2-redirect", PUBLIC, 200),
    Row("GET", "/redoc", PUBLIC, 200),
    Row("GET", "/health", PUBLIC, 200),
    Row("GET", "/metrics", PUBLIC, 200),
    Row("GET", "/addin/taskpane.html", PUBLIC, 200),
    Row("GET", "/addin/icon-{size}.png", PUBLIC, 200),
    Row("GET", "/addin/static", PUBLIC, 200, url="/addin/static/taskpane.js"),
    Row("GET", f"{V1}/keys", ADMIN, 200),
    Row("DELETE", f"{V1}/keys/{{key_id}}", ADMIN, 204),
    Row("GET", f"{V1}/tokens", ANY_TOKEN, 200, lambda w: {"params": {"user_id": w.owner_id}}),
    Row("DELETE", f"{V1}/tokens/{{token_id}}", OWNER, 204),
    Row("GET", f"{V1}/connections", ADMIN, 200),
    Row("POST", f"{V1}/connections", ADMIN, 201, lambda w: {"json": NEW_CONNECTION}),
    Row("GET", f"{V1}/connections/{{name}}", ADMIN, 200),
    Row(
        "PATCH",
        f"{V1}/connections/{{name}}",
        ADMIN,
        200,
        lambda w: {"json": {"impersonation": False}},
    ),
    Row("DELETE", f"{V1}/connections/{{name}}", ADMIN, 204),
    Row("POST", f"{V1}/connections/{{name}}/test", ADMIN, 200),
    Row("GET", f"{V1}/users", ADMIN, 200),
    Row("POST", f"{V1}/users", ADMIN, 201, lambda w: {"json": NEW_SYNC_USER}),
    Row("GET", f"{V1}/users/{{user_id}}", OWNER, 200),
    Row("PATCH", f"{V1}/users/{{user_id}}", ADMIN, 200, lambda w: {"json": {"enabled": False}}),
    Row("DELETE", f"{V1}/users/{{user_id}}", ADMIN, 204),
    Row("POST", f"{V1}/users/{{user_id}}/test-connection", OWNER, 200),
    Row("POST", f"{V1}/users/{{user_id}}/sync", OWNER, 202),
    Row("GET", f"{V1}/users/{{user_id}}/status", OWNER, 200),
    Row("POST", f"{V1}/users/{{user_id}}/suspend", ADMIN, 200),
    Row("POST", f"{V1}/users/{{user_id}}/resume", ADMIN, 200),
    Row("POST", f"{V1}/users/{{user_id}}/reset", ADMIN, 202),
    Row("GET", f"{V1}/users/{{user_id}}/settings", OWNER, 200),
    Row(
        "PUT",
        f"{V1}/users/{{user_id}}/settings",
        ADMIN,
        200,
        lambda w: {"json": {"interval_minutes": 30}},
    ),
    Row("GET", f"{V1}/runs", ANY_TOKEN, 200),
    Row("GET", f"{V1}/runs/{{run_id}}", OWNER, 200),
    Row("GET", f"{V1}/runs/{{run_id}}/entries", OWNER, 200),
    Row("POST", f"{V1}/runs/{{run_id}}/confirm-deletions", ADMIN, 202),
    Row("GET", f"{V1}/log-entries", ANY_TOKEN, 200),
    Row("POST", f"{V1}/log-entries/{{entry_id}}/retry", OWNER, 202),
    Row("POST", f"{V1}/log-entries/{{entry_id}}/skip", OWNER, 200),
    Row("GET", f"{V1}/alerts", ADMIN, 200),
    Row("POST", f"{V1}/alerts/{{alert_id}}/acknowledge", ADMIN, 200),
    Row("GET", f"{V1}/settings", ADMIN, 200),
    Row("PUT", f"{V1}/settings", ADMIN, 200, lambda w: {"json": {"interval_minutes": 30}}),
    Row("GET", f"{V1}/mappings/task-status", ADMIN, 200),
    Row(
        "PUT",
        f"{V1}/mappings/task-status",
        ADMIN,
        200,
        lambda w: {"json": w.task_status_mapping},
    ),
    Row("DELETE", f"{V1}/mappings/task-status", ADMIN, 200),
    Row("GET", f"{V1}/mappings/{{entity}}", ADMIN, 200),
    Row("PUT", f"{V1}/mappings/{{entity}}", ADMIN, 200, lambda w: {"json": w.mapping}),
    Row("DELETE", f"{V1}/mappings/{{entity}}", ADMIN, 200),
    Row("GET", f"{V1}/templates/{{entity}}", ADMIN, 200, path_values={"entity": "tasks"}),
    Row(
        "PUT",
        f"{V1}/templates/{{entity}}",
        ADMIN,
        200,
        lambda w: {"json": w.template},
        path_values={"entity": "tasks"},
    ),
    Row("DELETE", f"{V1}/templates/{{entity}}", ADMIN, 200, path_values={"entity": "tasks"}),
    Row("GET", f"{V1}/exclusions", ADMIN, 200),
    Row("POST", f"{V1}/exclusions", ADMIN, 201, lambda w: {"json": EXCLUSION}),
    Row("DELETE", f"{V1}/exclusions/{{exclusion_id}}", ADMIN, 204),
    Row("GET", f"{V1}/conflicts", ANY_TOKEN, 200),
    Row("GET", f"{V1}/conflicts/{{conflict_id}}", OWNER, 200),
    Row(
        "POST",
        f"{V1}/conflicts/{{conflict_id}}/resolve",
        OWNER,
        200,
        lambda w: {"json": {"apply": "crm"}},
    ),
    Row(
        "POST",
        f"{V1}/sessions",
        OWNER,
        201,
        lambda w: {"json": {"kind": "browser", "user_id": w.owner_id}},
    ),
    Row("POST", f"{V1}/sessions/{{session_id}}/heartbeat", OWNER, 200),
    Row("DELETE", f"{V1}/sessions/{{session_id}}", OWNER, 204),
    Row("GET", f"{V1}/licenses", ADMIN, 200),
    Row("PUT", f"{V1}/licenses", ADMIN, 200, lambda w: {"json": LICENCES}),
    Row("GET", f"{V1}/licenses/history", ADMIN, 200),
    Row("GET", f"{V1}/crm/search", ANY_TOKEN, 200, lambda w: {"params": {"q": "Acme"}}),
    Row(
        "POST",
        f"{V1}/crm/persons",
        OWNER,
        201,
        lambda w: {"json": {"last_name": "Doe", "email": "doe@example.com", "user_id": w.owner_id}},
    ),
    Row("GET", f"{V1}/addin", OWNER, 200, lambda w: {"params": {"user_id": str(w.owner_id)}}),
    # With a bearer token: the caller's own offer.
    Row("GET", f"{V1}/addin/manifest.xml", ANY_TOKEN, 200),
    # With the signed link (Outlook sends no header): public, whatever else is sent.
    Row(
        "GET",
        f"{V1}/addin/manifest.xml",
        PUBLIC,
        200,
        lambda w: {"params": {"link": w.manifest_link}},
    ),
    Row(
        "POST",
        f"{V1}/imports/contacts",
        ADMIN,
        202,
        lambda w: {"files": {"file": ("contacts.csv", CONTACTS_CSV, "text/csv")}},
    ),
    Row("GET", f"{V1}/imports", ADMIN, 200),
    Row("GET", f"{V1}/imports/{{import_id}}", ADMIN, 200),
    Row("GET", f"{V1}/imports/{{import_id}}/report.csv", ADMIN, 200),
    Row("POST", f"{V1}/filings", OWNER, 200, lambda w: _filing_form(w, with_targets=True)),
    Row(
        "POST",
        f"{V1}/filings/suggestions",
        OWNER,
        200,
        lambda w: _filing_form(w, with_targets=False),
    ),
    Row("GET", f"{V1}/documents", ANY_TOKEN, 200, lambda w: {"params": {"shared": "true"}}),
    Row(
        "POST",
        f"{V1}/documents",
        ANY_TOKEN,
        201,
        lambda w: {
            "files": {"file": ("note.txt", b"a shared note", "text/plain")},
            "data": {"shared": "true"},
        },
    ),
    Row("GET", f"{V1}/documents/{{document_id}}/content", ANY_TOKEN, 200),
    # A document that is not shared: its uploader's (and admins') only.
    Row(
        "GET",
        f"{V1}/documents/{{document_id}}/content",
        OWNER,
        200,
        path_aliases={"document_id": "private_document_id"},
    ),
    Row(
        "POST",
        f"{V1}/drafts",
        OWNER,
        201,
        lambda w: {
            "json": {"document_ids": [w.document_id], "subject": "Hi", "user_id": w.owner_id}
        },
    ),
]


def _key_id(db: Session, secret: str) -> int:
    return db.scalars(select(ApiKey.id).where(ApiKey.secret_sha256 == token_digest(secret))).one()


def _served_routes(app: FastAPI) -> set[tuple[str, str]]:
    served = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            served.add(("GET", context.path))
            continue
        # Starlette answers HEAD wherever it answers GET.
        served.update(
            (method, context.path) for method in context.methods or () if method != "HEAD"
        )
    return served


def test_every_route_is_in_the_matrix(hardened_app: FastAPI) -> None:
    listed = {(row.method, row.route) for row in MATRIX}
    served = _served_routes(hardened_app)
    assert not served - listed, f"routes without a row in MATRIX: {sorted(served - listed)}"
    assert not listed - served, f"rows for routes the app does not serve: {sorted(listed - served)}"


@pytest.fixture
def world(hardened_client: TestClient, db: Session, admin_headers: dict[str, str]) -> World:
    owner_id, owner_headers = user_with_headers(db, "owner")
    _other_id, other_headers = user_with_headers(db, "other")
    set_seats(db, 10)
    company_id = crm_records.company(db, "Acme")
    run = sync_run(db, owner_id, deletions_held=True)
    entry = RunEntry(
        run_id=run.id,
        user_id=owner_id,
        entity="contacts",
        level=EntryLevel.ERROR,
        action="update",
        crm_id="1",
        message="refused by Exchange",
    )
    alert = Alert(user_id=owner_id, kind="sync_suspended", message="five failures in a row")
    db.add_all([entry, alert])
    conflict = sync_conflict(db, sync_link(db, owner_id))
    mapping = mappings_service.get_mapping(db, SyncEntity.CONTACTS)
    task_status = mappings_service.get_task_status_mapping(db)
    template = templates_service.read_template(db, SyncEntity.TASKS)
    spare_key = _key_id(db, auth_service.create_admin_key(db, name="spare"))
    spare_token = _key_id(db, auth_service.create_user_token(db, "owner", name="spare"))
    db.commit()

    def created(response: Any) -> dict[str, Any]:
        assert response.status_code in (201, 202), response.text
        body: dict[str, Any] = response.json()
        return body

    client = hardened_client
    session = created(client.post(f"{V1}/sessions", json={"kind": "plugin"}, headers=owner_headers))
    document = created(
        client.post(
            f"{V1}/documents",
            files={"file": ("terms.txt", b"terms and conditions", "text/plain")},
            data={"shared": "true"},
            headers=owner_headers,
        )
    )
    private_document = created(
        client.post(
            f"{V1}/documents",
            files={"file": ("offer.txt", b"our best price", "text/plain")},
            data={"entity": "company", "id": str(company_id)},
            headers=owner_headers,
        )
    )
    exclusion = created(client.post(f"{V1}/exclusions", json=EXCLUSION, headers=admin_headers))
    connection = created(
        client.post(
            f"{V1}/connections", json={**NEW_CONNECTION, "name": "fabrikam"}, headers=admin_headers
        )
    )
    contact_import = created(
        client.post(
            f"{V1}/imports/contacts",
            files={"file": ("contacts.csv", CONTACTS_CSV, "text/csv")},
            headers=admin_headers,
        )
    )
    return World(
        path_values={
            "user_id": str(owner_id),
            "run_id": str(run.id),
            "entry_id": str(entry.id),
            "alert_id": str(alert.id),
            "conflict_id": str(conflict.id),
            "session_id": session["session_id"],
            "document_id": str(document["id"]),
            "private_document_id": str(private_document["id"]),
            "exclusion_id": str(exclusion["id"]),
            "import_id": str(contact_import["import_id"]),
            "entity": SyncEntity.CONTACTS.value,
            "name": connection["name"],
            "size": "64",
            "key_id": str(spare_key),
            "token_id": str(spare_token),
        },
        headers={
            "no token": {},
            "wrong token": {"Authorization": "Bearer cst_never_issued_by_crmsync"},
            "other user": other_headers,
            "own user": owner_headers,
            "admin": admin_headers,
        },
        owner_id=owner_id,
        company_id=company_id,
        document_id=document["id"],
        manifest_link=links.sign(get_settings().effective_secret_key(), str(owner_id), utc_now()),
        mapping=[m.model_dump(mode="json") for m in mapping],
        task_status_mapping=task_status.model_dump(mode="json"),
        template={"template": template.template},
    )


def test_each_caller_gets_the_expected_status_from_every_route(
    hardened_client: TestClient, world: World, db_connection: Connection
) -> None:
    failures = []
    for row in MATRIX:
        for caller in CALLERS:
            expected = REFUSALS[row.access].get(caller, row.allowed_status)
            cell = db_connection.begin_nested()
            try:
                response = hardened_client.request(
                    row.method,
                    row.target(world),
                    headers=world.headers[caller],
                    **row.request(world),
                )
            finally:
                cell.rollback()
            if response.status_code != expected:
                failures.append(
                    f"{row.method} {row.route} ({row.access.value}) as {caller}: "
                    f"expected {expected}, got {response.status_code} {response.text[:200]}"
                )
    assert not failures, "\n".join(failures)
