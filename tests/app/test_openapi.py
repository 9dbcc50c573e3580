"""The OpenAPI document describes every operation and the media types it really serves."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.main import create_app
from tests.factories.headers import user_with_headers

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = create_app().openapi()
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _documented_types(method: str, path: str, status: str) -> set[str]:
    operation = next(op for m, p, op in _operations() if (m, p) == (method, path))
    return set(operation["responses"][status].get("content", {}))


def test_every_operation_has_a_summary_and_a_description() -> None:
    operations = _operations()
    assert len(operations) > 50
    undescribed = [
        f"{method} {path}"
        for method, path, operation in operations
        if not operation.get("summary", "").strip()
        or not operation.get("description", "").strip()
        or operation["description"].strip() == operation["summary"].strip()
    ]
    assert undescribed == []


def test_every_success_response_documents_a_media_type_or_none() -> None:
    """No 2xx response leaves its body undescribed, except the empty 204s."""
    for method, path, operation in _operations():
        for status, response in operation["responses"].items():
            if status.startswith("2") and status != "204":
                assert response.get("content"), f"{method} {path} {status} has no media type"


def test_a_document_download_documents_the_type_it_serves(client: TestClient, db: Session) -> None:
    headers = user_with_headers(db, "jane")[1]
    db.commit()
    created = client.post(
        "/api/v1/documents",
        headers=headers,
        files={"file": ("notes.txt", b"plain words")},
        data={"shared": "true"},
    )
    assert created.status_code == 201, created.text
    download = client.get(f"/api/v1/documents/{created.json()['id']}/content", headers=headers)
    served = download.headers["content-type"].split(";")[0]
    assert served == "text/plain"
    documented = _documented_types("GET", "/api/v1/documents/{document_id}/content", "200")
    assert served in documented and documented != {"application/octet-stream"}


def test_non_json_downloads_document_their_own_types() -> None:
    assert _documented_types("GET", "/api/v1/imports/{import_id}/report.csv", "200") == {"text/csv"}
    assert "application/xml" in _documented_types("GET", "/api/v1/addin/manifest.xml", "200")
