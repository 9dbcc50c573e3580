"""Schemathesis against crmsync's own OpenAPI document, in process: no 5xx, answers match it.

Each operation is fuzzed twice, with an admin key and with a user token, inside the test's
rolled-back transaction. CI runs a few examples per operation; `scripts/fuzz-api` runs many more
(CRMSYNC_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
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

from app.main import create_app
from tests.factories.headers import user_with_headers

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


# Regressions the fuzzer found, kept as plain tests so they fail with a readable message.


def test_an_id_beyond_the_database_integer_range_is_invalid_input(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/runs/2147483648", headers=admin_headers)
    assert response.status_code == 422
    assert "out of range" in response.json()["detail"]
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
