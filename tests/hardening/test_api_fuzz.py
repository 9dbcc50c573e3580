"""Schemathesis against crmsync's own OpenAPI document, in process: no 5xx, answers match it.

Each operation is fuzzed twice, with an admin key and with a user token, inside the test's
rolled-back transaction on PostgreSQL, and twice more on the embedded default's SQLite file
(which fails differently: it overflows on integers past 2^63 where PostgreSQL says DataError).
CI runs a few examples per operation; `scripts/fuzz-api` runs many more
(CRMSYNC_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database
from app.main import create_app
from tests.factories.headers import user_with_headers
from tests.factories.users import admin_key
from tests.hardening.conftest import EmptyMailbox

EXAMPLES = int(os.environ.get("CRMSYNC_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_dict(create_app().openapi())


@pytest.fixture(params=["admin", "user"])
def caller_headers(
    request: pytest.FixtureRequest, db: Session, admin_headers: dict[str, str]
) -> dict[str, str]:
    if request.param == "admin":
        return admin_headers
    return user_with_headers(db, "fuzzer")[1]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_answers_match_the_schema(
    case: Any, hardened_app: FastAPI, caller_headers: dict[str, str]
) -> None:
    case.call_and_validate(app=hardened_app, headers=caller_headers, checks=CHECKS)


# --- The embedded default: SQLite -------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A SQLite database as `crmsync serve` makes it (the migrations), with an admin key and a
    user token committed in it."""
    data_dir = tmp_path_factory.mktemp("embedded")
    url = f"sqlite:///{data_dir / 'crmsync.db'}"
    env = {**os.environ, "CRMSYNC_DATABASE_URL": url, "CRMSYNC_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, check=True, timeout=120
    )
    settings = get_settings().model_copy(
        update={
            "database_url": url,
            "data_dir": data_dir,
            "rate_limit_per_minute": 0,
            "failed_auth_limit_per_minute": 0,
        }
    )
    database = Database(settings)
    with database.session_factory() as db:
        admin = {"Authorization": f"Bearer {admin_key(db)}"}
        _user_id, user = user_with_headers(db, "fuzzer")
    try:
        yield {"settings": settings, "database": database, "admin": admin, "user": user}
    finally:
        database.dispose()


@pytest.fixture
def sqlite_app(
    sqlite_world: dict[str, Any], enqueued: list[Any], monkeypatch: pytest.MonkeyPatch
) -> FastAPI:
    monkeypatch.setattr("app.users.endpoints._WAIT_LIMIT_SECONDS", 0)
    return create_app(
        settings=sqlite_world["settings"],
        database=sqlite_world["database"],
        mailbox_messages=EmptyMailbox(),
    )


@pytest.fixture
def sqlite_admin(sqlite_world: dict[str, Any]) -> dict[str, str]:
    """A fresh admin key: the fuzzing, as admin, may have revoked the module's own
    (DELETE /api/v1/keys/{id})."""
    with sqlite_world["database"].session_factory() as db:
        key = admin_key(db)
        db.commit()
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(params=["admin", "user"])
def sqlite_caller(request: pytest.FixtureRequest, sqlite_world: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = sqlite_world[request.param]
    return headers


# What differs on SQLite (integer overflow, its type affinity) shows in boundary values, which
# the first examples try: a third of the examples keeps the suite's time in check.
@schema.parametrize()
@settings(
    max_examples=max(4, EXAMPLES // 3),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_on_the_embedded_default(
    case: Any, sqlite_app: FastAPI, sqlite_caller: dict[str, str]
) -> None:
    case.call_and_validate(app=sqlite_app, headers=sqlite_caller, checks=CHECKS)


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("method", "url", "parameter"),
    [
        ("GET", f"/api/v1/runs/{HUGE}", "path.run_id"),
        ("GET", f"/api/v1/users/{HUGE}", "path.user_id"),
        ("GET", f"/api/v1/users/-{HUGE}/status", "path.user_id"),
        ("GET", f"/api/v1/documents/{HUGE}/content", "path.document_id"),
        ("GET", f"/api/v1/imports/{HUGE}", "path.import_id"),
        ("GET", f"/api/v1/conflicts/{HUGE}", "path.conflict_id"),
        ("POST", f"/api/v1/log-entries/{HUGE}/skip", "path.entry_id"),
        ("GET", f"/api/v1/runs?user_id={HUGE}", "query.user_id"),
        ("GET", f"/api/v1/documents?entity=company&id={HUGE}", "query.id"),
        ("GET", "/api/v1/runs/2147483648", "path.run_id"),
    ],
)
def test_an_id_beyond_the_database_range_is_refused_naming_it_on_sqlite(
    sqlite_app: FastAPI, sqlite_admin: dict[str, str], method: str, url: str, parameter: str
) -> None:
    with TestClient(sqlite_app) as client:
        response = client.request(method, url, headers=sqlite_admin)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(parameter), response.json()


def test_an_id_beyond_the_range_in_a_body_or_cursor_is_refused_naming_it_on_sqlite(
    sqlite_app: FastAPI, sqlite_admin: dict[str, str]
) -> None:
    admin = sqlite_admin
    with TestClient(sqlite_app) as client:
        draft = client.post(
            "/api/v1/drafts", json={"document_ids": [int(HUGE)], "user_id": 1}, headers=admin
        )
        cursor = client.get(
            "/api/v1/runs", params={"cursor": "OTk5OTk5OTk5OTk5OTk5OTk5OTk="}, headers=admin
        )
    assert draft.status_code == 422, draft.text
    assert draft.json()["detail"].startswith("body.document_ids.0")
    assert cursor.status_code == 422, cursor.text
    assert "query.cursor" in cursor.json()["detail"]


# Regressions the fuzzer found, kept as plain tests so they fail with a readable message.


def test_an_id_beyond_the_database_integer_range_is_invalid_input(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/runs/2147483648", headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("path.run_id")
    # The transaction survives the refusal: the next request on it works.
    assert client.get("/api/v1/runs", headers=admin_headers).status_code == 200


def test_a_manifest_link_with_non_ascii_characters_is_not_genuine(client: TestClient) -> None:
    response = client.get("/api/v1/addin/manifest.xml", params={"link": "a.1.\u0080"})
    assert response.status_code == 401
    assert "not one crmsync signed" in response.json()["detail"]


def test_validation_errors_are_documented_as_sent(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    documented = client.get("/openapi.json").json()["components"]["schemas"]
    assert documented["HTTPValidationError"]["properties"]["detail"] == {
        "title": "Detail",
        "type": "string",
    }
    sent = client.get("/api/v1/runs?limit=0", headers=admin_headers).json()
    assert set(sent) == {"detail", "errors"}
    assert set(sent["errors"][0]) == set(documented["ValidationProblem"]["properties"])


def test_a_document_creation_time_carries_its_offset(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/documents",
        headers=admin_headers,
        files={"file": ("terms.txt", b"terms")},
        data={"shared": "true"},
    )
    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["created"]).utcoffset() is not None
