"""Filing uploaded .eml/.msg files through the API (the path of POP3 and IMAP users)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database
from app.kit.content_store import ContentStore
from app.main import create_app
from app.models.crm import CommLink, Communication, Library
from tests.factories import crm_records
from tests.factories.headers import user_with_headers

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
Headers = dict[str, str]


def upload(
    client: TestClient,
    headers: Headers,
    names: list[str],
    targets: list[dict[str, Any]],
    path: str = "/api/v1/filings",
    **fields: str,
) -> Any:
    files = [("files", (name, (CORPUS / name).read_bytes(), "message/rfc822")) for name in names]
    data = {"targets": json.dumps(targets), **fields}
    return client.post(path, headers=headers, files=files, data=data)


def filed(client: TestClient, headers: Headers, names: list[str], targets: list[Any]) -> Any:
    response = upload(client, headers, names, targets)
    assert response.status_code == 200, response.text
    return response.json()


def count(db: Session, model: Any) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def jane(db: Session) -> tuple[int, Headers]:
    return user_with_headers(db, "jane")


def test_filing_an_eml_creates_the_communication_links_and_attachments(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    user_id, headers = jane
    company = crm_records.company(db, "Northwind")
    anna = crm_records.person(db, "Anna", "Berg", email="anna.berg@northwind.example")
    deal = crm_records.opportunity(db, "Northwind renewal", company_id=company)
    db.commit()

    (result,) = filed(
        client,
        headers,
        ["attachments.eml"],
        [
            {"entity": "person", "id": anna},
            {"entity": "company", "id": company},
            {"entity": "opportunity", "id": deal},
        ],
    )
    assert result["created"] is True
    assert result["message_id"] == "<attach-0009@mail.northwind.example>"
    assert result["source"] == "file attachments.eml"
    assert sorted((r["entity"], r["id"]) for r in result["linked"]) == sorted(
        [("person", anna), ("company", company), ("opportunity", deal)]
    )
    comm = db.get(Communication, result["communication_id"])
    assert comm is not None
    assert (comm.comm_type, comm.comm_action, comm.comm_status) == ("Email", "EmailIn", "Complete")
    assert comm.comm_subject == "Price list and terms"
    assert comm.comm_from == "Anna Berg <anna.berg@northwind.example>"
    assert comm.comm_to == "Jane Doe <jane@example.com>"
    assert comm.comm_datetime == datetime(2024, 6, 10, 8, 0)  # the CRM zone is UTC here
    assert comm.comm_note == "Please find the price list and our terms attached.\n"
    assert (comm.comm_ishtml, comm.comm_hasattachments) == (None, "Y")
    assert comm.comm_messageid == "<attach-0009@mail.northwind.example>"
    assert comm.comm_opportunityid == deal and comm.comm_caseid is None
    links = db.scalars(
        select(CommLink).where(CommLink.cmli_comm_communicationid == comm.comm_communicationid)
    ).all()
    assert {
        (link.cmli_comm_personid, link.cmli_comm_companyid, link.cmli_comm_userid) for link in links
    } == {(anna, None, None), (None, company, None), (None, None, user_id)}
    assert len(links) == 3
    library = db.scalars(
        select(Library)
        .where(Library.libr_communicationid == comm.comm_communicationid)
        .order_by(Library.libr_libraryid)
    ).all()
    assert [(row.libr_filename, row.libr_type) for row in library] == [
        ("prices.csv", "EmailAttachment"),
        ("Geschäftsbedingungen.pdf", "EmailAttachment"),
    ]
    store = ContentStore.from_settings(get_settings())
    assert store.read(library[0].libr_sha256 or "") == b"item,price\nwidget,10"
    assert library[0].libr_filepath == store.relative_path(library[0].libr_sha256 or "")


def test_filing_again_changes_nothing_and_another_record_only_adds_links(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    anna = crm_records.person(db, "Anna", "Berg", email="anna.berg@northwind.example")
    bob = crm_records.person(db, "Bob", "Smith", email="bob.smith@northwind.example")
    db.commit()
    (first,) = filed(client, headers, ["attachments.eml"], [{"entity": "person", "id": anna}])
    before = (count(db, Communication), count(db, CommLink), count(db, Library))

    (again,) = filed(client, headers, ["attachments.eml"], [{"entity": "person", "id": anna}])
    assert again["communication_id"] == first["communication_id"]
    assert (again["created"], again["linked"]) == (False, [])
    assert (count(db, Communication), count(db, CommLink), count(db, Library)) == before

    (more,) = filed(client, headers, ["attachments.eml"], [{"entity": "person", "id": bob}])
    assert more["communication_id"] == first["communication_id"]
    assert (more["created"], more["linked"]) == (False, [{"entity": "person", "id": bob}])
    assert count(db, Communication) == before[0]
    assert count(db, CommLink) == before[1] + 1
    assert count(db, Library) == before[2]


def test_an_email_without_message_id_is_recognised_by_its_content(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    company = crm_records.company(db, "Scripted Ltd")
    db.commit()
    target = [{"entity": "company", "id": company}]
    (first,) = filed(client, headers, ["missing-headers.eml"], target)
    (again,) = filed(client, headers, ["missing-headers.eml"], target)
    assert first["message_id"] is None
    assert again["communication_id"] == first["communication_id"] and not again["created"]
    comm = db.get(Communication, first["communication_id"])
    assert comm is not None and (comm.comm_messageid or "").startswith("<sha256:")
    assert comm.comm_from is None and comm.comm_datetime is not None


def test_identical_attachments_are_stored_once(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    company = crm_records.company(db, "Acme")
    db.commit()
    target = [{"entity": "company", "id": company}]
    results = filed(client, headers, ["outlook.msg", "outlook-source.eml"], target)
    # The .msg and the .eml it was made from share a Message-ID: one communication.
    assert [r["created"] for r in results] == [True, False]
    assert results[0]["communication_id"] == results[1]["communication_id"]
    rows = db.scalars(
        select(Library).where(Library.libr_communicationid == results[0]["communication_id"])
    ).all()
    assert [row.libr_filename for row in rows] == ["angebot.pdf"]


def test_an_email_the_user_sent_is_email_out(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    carl = crm_records.person(db, "Carl", "Hansen", email="carl@fabrikam.example")
    db.commit()
    # forwarded.eml is from jane@example.com, the user's mailbox
    (result,) = filed(client, headers, ["forwarded.eml"], [{"entity": "person", "id": carl}])
    comm = db.get(Communication, result["communication_id"])
    assert comm is not None and comm.comm_action == "EmailOut"
    files = db.scalars(
        select(Library.libr_filename).where(
            Library.libr_communicationid == comm.comm_communicationid
        )
    ).all()
    # The forwarded email is filed whole, and its own attachment as a file of its own.
    assert sorted(files) == ["Contract draft.eml", "contract.pdf"]


def test_html_is_stored_sanitized(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    company = crm_records.company(db, "Evil")
    db.commit()
    (result,) = filed(client, headers, ["sanitize.eml"], [{"entity": "company", "id": company}])
    comm = db.get(Communication, result["communication_id"])
    assert comm is not None and comm.comm_ishtml == "Y"
    assert "<script" not in (comm.comm_email or "") and "onload" not in (comm.comm_email or "")
    assert "pixel.gif" not in (comm.comm_email or "")
    assert (comm.comm_note or "").startswith("Click here.")


def test_a_second_opportunity_is_a_conflict_naming_both(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    first = crm_records.opportunity(db, "First deal")
    second = crm_records.opportunity(db, "Second deal")
    db.commit()
    filed(client, headers, ["attachments.eml"], [{"entity": "opportunity", "id": first}])
    response = upload(
        client, headers, ["attachments.eml"], [{"entity": "opportunity", "id": second}]
    )
    assert response.status_code == 409
    assert f"opportunity {first}" in response.json()["detail"]
    assert f"opportunity {second}" in response.json()["detail"]


@pytest.mark.parametrize(
    ("targets", "detail"),
    [
        ([{"entity": "person", "id": 987654}], "no live CRM person 987654"),
        ([], "targets"),
        ([{"entity": "planet", "id": 1}], "targets"),
    ],
)
def test_bad_targets_are_refused_naming_them(
    client: TestClient, jane: tuple[int, Headers], targets: list[Any], detail: str
) -> None:
    _user_id, headers = jane
    response = upload(client, headers, ["attachments.eml"], targets)
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_deleted_records_and_two_cases_are_refused(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    gone = crm_records.case(db, "Closed and deleted", deleted=1)
    one, two = crm_records.case(db, "One"), crm_records.case(db, "Two")
    db.commit()
    response = upload(client, headers, ["attachments.eml"], [{"entity": "case", "id": gone}])
    assert response.status_code == 422 and f"no live CRM case {gone}" in response.json()["detail"]
    response = upload(
        client,
        headers,
        ["attachments.eml"],
        [{"entity": "case", "id": one}, {"entity": "case", "id": two}],
    )
    assert response.status_code == 422 and "one case only" in response.json()["detail"]


def test_a_malformed_email_fails_the_whole_call_and_nothing_is_written(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    company = crm_records.company(db, "Northwind")
    db.commit()
    before = (count(db, Communication), count(db, CommLink), count(db, Library))
    response = upload(
        client,
        headers,
        ["attachments.eml", "malformed.eml"],
        [{"entity": "company", "id": company}],
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("file malformed.eml: not a readable email")
    assert "boundary" in response.json()["detail"]
    assert (count(db, Communication), count(db, CommLink), count(db, Library)) == before


def test_a_damaged_msg_is_a_clear_422(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    company = crm_records.company(db, "Northwind")
    db.commit()
    damaged = (CORPUS / "outlook.msg").read_bytes()[:4096]
    response = client.post(
        "/api/v1/filings",
        headers=headers,
        files=[("files", ("broken.msg", damaged, "application/vnd.ms-outlook"))],
        data={"targets": json.dumps([{"entity": "company", "id": company}])},
    )
    assert response.status_code == 422
    assert "file broken.msg" in response.json()["detail"]
    assert "Outlook .msg" in response.json()["detail"]


@pytest.fixture
def small_limits_client(database: Database) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={"max_message_bytes": 500})
    with TestClient(create_app(settings=settings, database=database)) as test_client:
        yield test_client


def test_an_email_over_the_size_limit_is_a_413_naming_the_limit(
    small_limits_client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    company = crm_records.company(db, "Northwind")
    db.commit()
    response = upload(
        small_limits_client,
        headers,
        ["multipart-alternative.eml"],
        [{"entity": "company", "id": company}],
    )
    assert response.status_code == 413
    assert "500 bytes" in response.json()["detail"]
    assert "CRMSYNC_MAX_MESSAGE_BYTES" in response.json()["detail"]


def test_item_ids_need_an_exchange_connector(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    company = crm_records.company(db, "Northwind")
    db.commit()
    response = client.post(
        "/api/v1/filings",
        headers=headers,
        json={"item_ids": ["AAMkI-1"], "targets": [{"entity": "company", "id": company}]},
    )
    assert response.status_code == 503
    assert "no Exchange connector" in response.json()["detail"]


def test_a_user_files_only_for_themselves_and_an_admin_for_anyone(
    client: TestClient, db: Session, jane: tuple[int, Headers], admin_headers: Headers
) -> None:
    jane_id, headers = jane
    other_id, _ = user_with_headers(db, "carl")
    company = crm_records.company(db, "Northwind")
    db.commit()
    target = [{"entity": "company", "id": company}]
    response = upload(client, headers, ["attachments.eml"], target, user_id=str(other_id))
    assert response.status_code == 404
    response = upload(client, admin_headers, ["attachments.eml"], target)
    assert response.status_code == 422 and "user_id" in response.json()["detail"]
    response = upload(client, admin_headers, ["attachments.eml"], target, user_id=str(other_id))
    assert response.status_code == 200, response.text
    comm_id = response.json()[0]["communication_id"]
    users = db.scalars(
        select(CommLink.cmli_comm_userid).where(
            CommLink.cmli_comm_communicationid == comm_id, CommLink.cmli_comm_userid.is_not(None)
        )
    ).all()
    assert users == [other_id] and jane_id not in users
    assert client.post("/api/v1/filings", files=[("files", ("a.eml", b"x"))]).status_code == 401


def test_json_body_is_validated(client: TestClient, jane: tuple[int, Headers]) -> None:
    _user_id, headers = jane
    response = client.post(
        "/api/v1/filings", headers=headers, json={"item_ids": [], "targets": [], "extra": 1}
    )
    assert response.status_code == 422
    assert "body.item_ids" in response.json()["detail"]
    assert "body.extra" in response.json()["detail"]
    response = client.post(
        "/api/v1/filings", headers=headers, data={"targets": "[]"}, files=[("other", ("x", b""))]
    )
    assert response.status_code == 422 and "body.files" in response.json()["detail"]


def test_suggestions_for_an_uploaded_email(
    client: TestClient, db: Session, jane: tuple[int, Headers]
) -> None:
    _user_id, headers = jane
    northwind = crm_records.company(db, "Northwind", website="https://www.northwind.example")
    anna = crm_records.person(
        db, "Anna", "Berg", email="anna.berg@northwind.example", company_name="Northwind"
    )
    deal = crm_records.opportunity(db, "Northwind renewal", company_id=northwind)
    crm_records.person(db, "Jane", "Colleague", email="jane@example.com")  # the user herself
    db.commit()
    response = upload(
        client, headers, ["multipart-alternative.eml"], [], path="/api/v1/filings/suggestions"
    )
    assert response.status_code == 200, response.text
    (email,) = response.json()
    assert email["message_id"] == "<CAF=alt-0001@mail.northwind.example>"
    records = {(r["entity"], r["id"]): r for r in email["records"]}
    assert records[("person", anna)]["reasons"] == ["sender anna.berg@northwind.example"]
    assert records[("person", anna)]["label"] == "Anna Berg"
    assert records[("company", northwind)]["reasons"] == [
        "company of Anna Berg",
        "domain northwind.example",
    ]
    assert records[("opportunity", deal)]["reasons"] == ["open opportunity of Northwind"]
    assert [r["entity"] for r in email["records"]] == ["person", "company", "opportunity"]
