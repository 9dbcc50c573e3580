"""CRM documents through the API: uploads, listings, contents; drafts need a connector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database
from app.kit.content_store import ContentStore
from app.main import create_app
from app.models.crm import Library
from tests.factories import crm_records
from tests.factories.headers import user_with_headers

Headers = dict[str, str]


@pytest.fixture
def headers(db: Session) -> Headers:
    return user_with_headers(db, "jane")[1]


def add_document(
    client: TestClient, headers: Headers, name: str, content: bytes, **form: str
) -> dict[str, object]:
    response = client.post(
        "/api/v1/documents", headers=headers, files={"file": (name, content)}, data=form
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_shared_and_record_documents_are_listed_and_downloadable(
    client: TestClient, db: Session, headers: Headers
) -> None:
    company = crm_records.company(db, "Northwind")
    db.commit()
    terms = add_document(client, headers, "Terms & conditions.pdf", b"%PDF terms", shared="true")
    offer = add_document(
        client, headers, "Angebot für Q3.docx", b"offer", entity="company", id=str(company)
    )
    add_document(client, headers, "same-content.pdf", b"%PDF terms", shared="true")
    assert terms["shared"] is True and terms["record"] is None and terms["type"] == "Document"
    assert offer["record"] == {"entity": "company", "id": company} and offer["shared"] is False
    assert terms["size"] == len(b"%PDF terms") and terms["status"] == "Final"

    shared = client.get("/api/v1/documents?shared=true&limit=1", headers=headers).json()
    assert [d["filename"] for d in shared["items"]] == ["Terms & conditions.pdf"]
    rest = client.get(
        f"/api/v1/documents?shared=true&cursor={shared['next_cursor']}", headers=headers
    ).json()
    assert [d["filename"] for d in rest["items"]] == ["same-content.pdf"]
    assert rest["next_cursor"] is None
    of_company = client.get(
        f"/api/v1/documents?entity=company&id={company}", headers=headers
    ).json()
    assert [d["id"] for d in of_company["items"]] == [offer["id"]]

    content = client.get(f"/api/v1/documents/{offer['id']}/content", headers=headers)
    assert content.status_code == 200 and content.content == b"offer"
    assert "Angebot" in content.headers["content-disposition"]
    pdf = client.get(f"/api/v1/documents/{terms['id']}/content", headers=headers)
    assert pdf.headers["content-type"] == "application/pdf"
    # identical contents share one file in the content store
    row = db.get(Library, terms["id"])
    assert row is not None and row.libr_sha256 == shared["items"][0]["sha256"]
    assert row.libr_filepath == ContentStore.relative_path(row.libr_sha256 or "")
    assert shared["items"][0]["sha256"] == rest["items"][0]["sha256"]


def test_uploads_need_a_live_record_or_shared(
    client: TestClient, db: Session, headers: Headers
) -> None:
    response = client.post("/api/v1/documents", headers=headers, files={"file": ("a.txt", b"a")})
    assert response.status_code == 422 and "shared=true" in response.json()["detail"]
    response = client.post(
        "/api/v1/documents",
        headers=headers,
        files={"file": ("a.txt", b"a")},
        data={"entity": "person", "id": "424242"},
    )
    assert response.status_code == 422 and "no live CRM person 424242" in response.json()["detail"]
    assert client.get("/api/v1/documents", headers=headers).status_code == 422
    assert client.get("/api/v1/documents?entity=case", headers=headers).status_code == 422
    assert client.get("/api/v1/documents/999999/content", headers=headers).status_code == 404


@pytest.fixture
def small_documents_client(database: Database) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={"max_document_bytes": 10})
    with TestClient(create_app(settings=settings, database=database)) as test_client:
        yield test_client


def test_a_document_over_the_limit_is_a_413(
    small_documents_client: TestClient, headers: Headers
) -> None:
    response = small_documents_client.post(
        "/api/v1/documents",
        headers=headers,
        files={"file": ("big.bin", b"x" * 11)},
        data={"shared": "true"},
    )
    assert response.status_code == 413
    assert "CRMSYNC_MAX_DOCUMENT_BYTES" in response.json()["detail"]


def test_drafts_check_documents_and_need_a_connector(client: TestClient, headers: Headers) -> None:
    document = add_document(client, headers, "terms.pdf", b"%PDF", shared="true")
    response = client.post(
        "/api/v1/drafts",
        headers=headers,
        json={"document_ids": [document["id"], 777777], "subject": "Terms", "to": []},
    )
    assert response.status_code == 404 and "no document 777777" in response.json()["detail"]
    response = client.post(
        "/api/v1/drafts",
        headers=headers,
        json={"document_ids": [document["id"]], "subject": "Terms", "to": ["a@b.example"]},
    )
    assert response.status_code == 503
    response = client.post(
        "/api/v1/drafts",
        headers=headers,
        json={"document_ids": [1], "reply_to_item_id": "x", "draft_item_id": "y"},
    )
    assert response.status_code == 422 and "not both" in response.json()["detail"]
