"""Drafts with CRM documents attached, end to end through exchangelib and the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from exchangelib import FileAttachment, Message
from fastapi.testclient import TestClient

from app.db import Database
from app.main import create_app
from tests.e2e.conftest import Mailbox
from tests.factories.users import user_token
from workers.connectors.ews.messages import ExchangeMessages

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
Headers = dict[str, str]


@pytest.fixture
def api(database: Database) -> Iterator[TestClient]:
    app = create_app(database=database, mailbox_messages=ExchangeMessages())
    with TestClient(app) as client:
        yield client


@pytest.fixture
def headers(mailbox: Mailbox) -> Headers:
    token = user_token(mailbox.db, "jane")
    mailbox.db.commit()
    return {"Authorization": f"Bearer {token}"}


def document(api: TestClient, headers: Headers, name: str, content: bytes) -> int:
    response = api.post(
        "/api/v1/documents",
        headers=headers,
        files={"file": (name, content)},
        data={"shared": "true"},
    )
    assert response.status_code == 201, response.text
    document_id: int = response.json()["id"]
    return document_id


def draft(api: TestClient, headers: Headers, **body: object) -> str:
    response = api.post("/api/v1/drafts", headers=headers, json=body)
    assert response.status_code == 201, response.text
    item_id: str = response.json()["item_id"]
    return item_id


def attachments_of(mailbox: Mailbox, item_id: str) -> dict[str, bytes]:
    (item,) = mailbox.outlook.fetch(ids=[(item_id, None)], only_fields=["attachments"])
    found = {}
    for attachment in item.attachments:
        assert isinstance(attachment, FileAttachment)
        found[attachment.name] = attachment.content
    return found


def test_a_new_draft_carries_the_documents(
    api: TestClient, headers: Headers, mailbox: Mailbox
) -> None:
    terms = document(api, headers, "Terms.pdf", b"%PDF terms")
    offer = document(api, headers, "Angebot für Q3.docx", b"offer bytes")
    item_id = draft(
        api,
        headers,
        document_ids=[terms, offer],
        subject="Our offer",
        to=["anna.berg@northwind.example"],
        body="Please find our offer attached.",
    )
    (saved,) = mailbox.outlook.drafts.all().only("subject", "to_recipients", "is_draft")
    assert saved.id == item_id and saved.subject == "Our offer"
    assert [r.email_address for r in saved.to_recipients] == ["anna.berg@northwind.example"]
    assert attachments_of(mailbox, item_id) == {
        "Terms.pdf": b"%PDF terms",
        "Angebot für Q3.docx": b"offer bytes",
    }


def test_a_reply_draft_answers_the_original(
    api: TestClient, headers: Headers, mailbox: Mailbox
) -> None:
    original = Message(
        account=mailbox.outlook,
        folder=mailbox.outlook.inbox,
        mime_content=(CORPUS / "multipart-alternative.eml").read_bytes(),
    )
    original.save()
    terms = document(api, headers, "Terms.pdf", b"%PDF terms")
    item_id = draft(api, headers, document_ids=[terms], reply_to_item_id=original.id)
    (reply,) = mailbox.outlook.fetch(
        ids=[(item_id, None)], only_fields=["subject", "to_recipients", "in_reply_to"]
    )
    assert reply.subject == "RE: Quarterly review: agenda"
    assert [r.email_address for r in reply.to_recipients] == ["anna.berg@northwind.example"]
    assert reply.in_reply_to == "<CAF=alt-0001@mail.northwind.example>"
    assert attachments_of(mailbox, item_id) == {"Terms.pdf": b"%PDF terms"}


def test_documents_are_added_to_an_existing_draft(
    api: TestClient, headers: Headers, mailbox: Mailbox
) -> None:
    existing = Message(account=mailbox.outlook, folder=mailbox.outlook.drafts, subject="Notes")
    existing.save()
    terms = document(api, headers, "Terms.pdf", b"%PDF terms")
    assert draft(api, headers, document_ids=[terms], draft_item_id=existing.id) == existing.id
    assert attachments_of(mailbox, str(existing.id)) == {"Terms.pdf": b"%PDF terms"}
    assert mailbox.outlook.drafts.all().count() == 1


def test_a_draft_item_id_must_be_a_draft_of_the_users_mailbox(
    api: TestClient, headers: Headers, mailbox: Mailbox
) -> None:
    received = Message(
        account=mailbox.outlook,
        folder=mailbox.outlook.inbox,
        mime_content=(CORPUS / "attachments.eml").read_bytes(),
    )
    received.save()
    terms = document(api, headers, "Terms.pdf", b"%PDF terms")
    response = api.post(
        "/api/v1/drafts",
        headers=headers,
        json={"document_ids": [terms], "draft_item_id": received.id},
    )
    assert response.status_code == 422 and "is not a draft" in response.json()["detail"]
    response = api.post(
        "/api/v1/drafts",
        headers=headers,
        json={"document_ids": [terms], "draft_item_id": "AAMkI-not-here"},
    )
    assert response.status_code == 422 and "AAMkI-not-here" in response.json()["detail"]
