"""A Message-ID is what the sender wrote, so it proves nothing: a second filing joins the
stored communication only when its content matches (normalized body and attachments); other
content under a known Message-ID is a communication of its own, never merged."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.crm import CommLink, Communication, Library
from app.models.filing import FiledEmailContent
from tests.factories import crm_records
from tests.factories.headers import user_with_headers

MESSAGE_ID = "<q3-figures-0001@mail.example.com>"


def _email(body: str, attachment: bytes | None = None, *, crlf: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = "ceo@client.example"
    message["To"] = "alice@example.com"
    message["Subject"] = "Q3 figures"
    message["Message-ID"] = MESSAGE_ID
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename="q3.xlsx"
        )
    raw = bytes(message)
    return raw.replace(b"\n", b"\r\n") if crlf else raw


def _file(client: TestClient, headers: dict[str, str], raw: bytes, company: int) -> Any:
    response = client.post(
        "/api/v1/filings",
        headers=headers,
        files=[("files", ("mail.eml", raw, "message/rfc822"))],
        data={"targets": json.dumps([{"entity": "company", "id": company}])},
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()
    return result


def test_a_forged_message_id_files_a_communication_of_its_own(
    client: TestClient, db: Session
) -> None:
    alice_id, alice = user_with_headers(db, "alice")
    mallory_id, mallory = user_with_headers(db, "mallory")
    alices_client = crm_records.company(db, "Alice's client")
    mallorys_shell = crm_records.company(db, "Mallory's shell")
    db.commit()
    original = _file(client, alice, _email("Revenue 4.2M", b"secret sheet"), alices_client)
    assert original["created"] is True

    for forged in (
        _email("Click here", b"secret sheet"),  # another body
        _email("Revenue 4.2M", b"another sheet"),  # another attachment
        _email("Revenue 4.2M"),  # no attachment
    ):
        result = _file(client, mallory, forged, mallorys_shell)
        assert result["created"] is True
        assert result["communication_id"] != original["communication_id"]
        assert result["message_id"] == MESSAGE_ID

    db.expire_all()
    alices_links = db.scalars(
        select(CommLink).where(CommLink.cmli_comm_communicationid == original["communication_id"])
    ).all()
    assert {(link.cmli_comm_userid, link.cmli_comm_companyid) for link in alices_links} == {
        (alice_id, None),
        (None, alices_client),
    }
    assert mallory_id not in {link.cmli_comm_userid for link in alices_links}
    stored = db.get(Communication, original["communication_id"])
    assert stored is not None and stored.comm_note is not None
    assert stored.comm_note.strip() == "Revenue 4.2M"


def test_the_same_email_filed_again_joins_its_communication(
    client: TestClient, db: Session
) -> None:
    _alice_id, alice = user_with_headers(db, "alice")
    bob_id, bob = user_with_headers(db, "bob")
    first_company = crm_records.company(db, "First")
    second_company = crm_records.company(db, "Second")
    db.commit()
    original = _file(client, alice, _email("Revenue 4.2M", b"sheet"), first_company)
    # The same content, its line endings changed on the way: the same email.
    again = _file(client, bob, _email("Revenue 4.2M", b"sheet", crlf=True), second_company)
    assert again["created"] is False
    assert again["communication_id"] == original["communication_id"]
    assert again["linked"] == [{"entity": "company", "id": second_company}]
    db.expire_all()
    users = db.scalars(
        select(CommLink.cmli_comm_userid).where(
            CommLink.cmli_comm_communicationid == original["communication_id"],
            CommLink.cmli_comm_userid.is_not(None),
        )
    ).all()
    assert bob_id in users


def test_an_email_filed_before_content_was_recorded_is_compared_by_what_was_stored(
    client: TestClient, db: Session
) -> None:
    _alice_id, alice = user_with_headers(db, "alice")
    _bob_id, bob = user_with_headers(db, "bob")
    company = crm_records.company(db, "Legacy")
    db.commit()
    original = _file(client, alice, _email("Revenue 4.2M", b"sheet"), company)
    # As it was before this release: no recorded content hashes.
    row = db.get(FiledEmailContent, original["communication_id"])
    assert row is not None
    db.delete(row)
    db.commit()
    assert db.scalars(
        select(Library).where(Library.libr_communicationid == original["communication_id"])
    ).all()

    same = _file(client, bob, _email("Revenue 4.2M", b"sheet"), company)
    assert (same["created"], same["communication_id"]) == (False, original["communication_id"])
    other = _file(client, bob, _email("Revenue 9.9M", b"sheet"), company)
    assert other["created"] is True
