"""Who may read a document or attach it to a draft: everyone for a shared one; otherwise an
admin, its uploader, the users linked to its communication, and the primary (or assigned)
user of the record it is filed to. Anyone else is told it does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import get_settings
from app.kit.content_store import ContentStore
from app.models.crm import FLAG_SET, Case, Company, Library, Opportunity, Person
from tests.factories import crm_records
from tests.factories.communications import communication
from tests.factories.headers import user_with_headers

Headers = dict[str, str]


@dataclass(frozen=True)
class Cast:
    uploader: int
    reader: int
    headers: dict[str, Headers]


@pytest.fixture
def cast(db: Session, admin_headers: Headers) -> Cast:
    uploader, uploader_headers = user_with_headers(db, "uploader")
    reader, reader_headers = user_with_headers(db, "reader")
    _stranger, stranger_headers = user_with_headers(db, "stranger")
    return Cast(
        uploader=uploader,
        reader=reader,
        headers={
            "no token": {},
            "bad token": {"Authorization": "Bearer cst_never_issued"},
            "uploader": uploader_headers,
            "reader": reader_headers,
            "other user": stranger_headers,
            "admin": admin_headers,
        },
    )


def _document(db: Session, uploader: int, **columns: object) -> int:
    stored = ContentStore.from_settings(get_settings()).put(b"private numbers")
    row = Library(
        libr_filepath=stored.relative_path,
        libr_filename="numbers.txt",
        libr_sha256=stored.sha256,
        libr_filesize=stored.size,
        created_by=uploader,
        **{"libr_type": "Document", **columns},
    )
    db.add(row)
    db.flush()
    return row.libr_libraryid


def _company_of(db: Session, user: int) -> dict[str, object]:
    company = Company(comp_name="Reader's client", comp_primaryuserid=user)
    db.add(company)
    db.flush()
    return {"libr_companyid": company.comp_companyid}


def _person_of(db: Session, user: int) -> dict[str, object]:
    person = db.get(Person, crm_records.person(db, "Pat", "Reader"))
    assert person is not None
    person.pers_primaryuserid = user
    return {"libr_personid": person.pers_personid}


def _opportunity_of(db: Session, user: int) -> dict[str, object]:
    deal = db.get(Opportunity, crm_records.opportunity(db, "Reader's deal"))
    assert deal is not None
    deal.oppo_assigneduserid = user
    return {"libr_opportunityid": deal.oppo_opportunityid}


def _case_of(db: Session, user: int) -> dict[str, object]:
    case = db.get(Case, crm_records.case(db, "Reader's case"))
    assert case is not None
    case.case_assigneduserid = user
    return {"libr_caseid": case.case_caseid}


def _attachment_linked_to(db: Session, user: int) -> dict[str, object]:
    email = communication(db, user, comm_type="Email", comm_subject="numbers")
    return {"libr_communicationid": email, "libr_type": "EmailAttachment"}


GRANTS: dict[str, Callable[[Session, int], dict[str, object]]] = {
    "company's primary user": _company_of,
    "person's primary user": _person_of,
    "opportunity's assigned user": _opportunity_of,
    "case's assigned user": _case_of,
    "linked to its communication": _attachment_linked_to,
}
EXPECTED = {
    "no token": 401,
    "bad token": 401,
    "uploader": 200,
    "reader": 200,
    "other user": 404,
    "admin": 200,
}


@pytest.mark.parametrize("grant", GRANTS)
def test_a_private_document_reaches_only_those_it_belongs_to(
    client: TestClient, db: Session, cast: Cast, grant: str
) -> None:
    document = _document(db, cast.uploader, **GRANTS[grant](db, cast.reader))
    db.commit()
    got = {
        caller: client.get(f"/api/v1/documents/{document}/content", headers=headers).status_code
        for caller, headers in cast.headers.items()
    }
    assert got == EXPECTED


def test_a_shared_document_reaches_every_user(client: TestClient, db: Session, cast: Cast) -> None:
    document = _document(db, cast.uploader, libr_global=FLAG_SET)
    db.commit()
    for caller in ("uploader", "reader", "other user", "admin"):
        response = client.get(f"/api/v1/documents/{document}/content", headers=cast.headers[caller])
        assert response.status_code == 200, caller


def test_a_record_listing_shows_each_user_only_the_documents_they_may_read(
    client: TestClient, db: Session, cast: Cast
) -> None:
    record = _company_of(db, cast.reader)
    private = _document(db, cast.uploader, **record)
    shared = _document(db, cast.uploader, libr_global=FLAG_SET, **record)
    db.commit()
    path = f"/api/v1/documents?entity=company&id={record['libr_companyid']}"
    listed = {
        caller: [d["id"] for d in client.get(path, headers=cast.headers[caller]).json()["items"]]
        for caller in ("uploader", "reader", "other user", "admin")
    }
    assert listed == {
        "uploader": [private, shared],
        "reader": [private, shared],
        "other user": [shared],
        "admin": [private, shared],
    }


def test_only_those_who_may_read_a_document_attach_it_to_a_draft(
    client: TestClient, db: Session, cast: Cast
) -> None:
    document = _document(db, cast.uploader, **_company_of(db, cast.reader))
    db.commit()
    body = {"document_ids": [document], "subject": "Numbers", "to": ["a@b.example"]}
    refused = client.post("/api/v1/drafts", json=body, headers=cast.headers["other user"])
    assert refused.status_code == 404
    assert f"no document {document}" in refused.json()["detail"]
    # Past the documents' check, the draft needs a mailbox connector this test app lacks.
    for caller in ("uploader", "reader"):
        allowed = client.post("/api/v1/drafts", json=body, headers=cast.headers[caller])
        assert allowed.status_code == 503, (caller, allowed.text)
