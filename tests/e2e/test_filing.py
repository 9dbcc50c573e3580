"""Filing from the mailbox, end to end: the API, PostgreSQL, exchangelib and the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from exchangelib import (
    Account,
    FileAttachment,
    ItemAttachment,
    Message,
)
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database
from app.filings.mailbox import FILED_CATEGORY
from app.main import create_app
from app.models.crm import Case, CommLink, Communication, Library
from ews_simulator.testing import SimulatorServer, client_account
from tests.e2e.conftest import Mailbox
from tests.factories import crm_records
from tests.factories.users import admin_key, user_token
from workers.connectors.ews.messages import FILED_FIELD, ExchangeMessages

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
FILING_FOLDER = "Filed in CRM"


def client_for(database: Database, **settings: Any) -> TestClient:
    configured = get_settings().model_copy(update=settings)
    app = create_app(settings=configured, database=database, mailbox_messages=ExchangeMessages())
    return TestClient(app)


@pytest.fixture
def api(database: Database) -> Iterator[TestClient]:
    with client_for(database) as client:
        yield client


@pytest.fixture
def headers(mailbox: Mailbox) -> dict[str, str]:
    token = user_token(mailbox.db, "jane")
    mailbox.db.commit()
    return {"Authorization": f"Bearer {token}"}


def put_in(account: Account, name: str, folder: Any = None) -> str:
    message = Message(
        account=account, folder=folder or account.inbox, mime_content=(CORPUS / name).read_bytes()
    )
    message.save()
    return str(message.id)


def file_items(api: TestClient, headers: dict[str, str], item_ids: list[str], targets: Any) -> Any:
    return api.post(
        "/api/v1/filings", headers=headers, json={"item_ids": item_ids, "targets": targets}
    )


def counts(db: Session) -> tuple[int, ...]:
    db.expire_all()
    return tuple(
        db.scalar(select(func.count()).select_from(model)) or 0
        for model in (Communication, CommLink, Library)
    )


def test_filing_by_item_id_files_and_marks_the_emails_in_exchange(
    api: TestClient, headers: dict[str, str], mailbox: Mailbox, simulator: SimulatorServer
) -> None:
    db = mailbox.db
    anna = crm_records.person(db, "Anna", "Berg", email="anna.berg@northwind.example")
    db.commit()
    received = put_in(mailbox.outlook, "attachments.eml")
    sent = put_in(mailbox.outlook, "forwarded.eml", mailbox.outlook.sent)
    simulator.clear_stats()

    response = file_items(api, headers, [received, sent], [{"entity": "person", "id": anna}])
    assert response.status_code == 200, response.text
    filed = response.json()
    assert [f["created"] for f in filed] == [True, True]
    assert [f["source"] for f in filed] == [f"item {received}", f"item {sent}"]
    requests = simulator.stats()["requests"]
    # one GetItem for the MIME, one for the categories, one UpdateItem for both emails
    assert requests["GetItem"] == 2 and requests["UpdateItem"] == 1

    actions = [db.get(Communication, f["communication_id"]) for f in filed]
    assert [c.comm_action for c in actions if c] == ["EmailIn", "EmailOut"]
    assert [c.comm_subject for c in actions if c] == ["Price list and terms", "Fwd: Contract draft"]
    attachments = db.scalars(
        select(Library.libr_filename).where(
            Library.libr_communicationid == filed[0]["communication_id"]
        )
    ).all()
    assert set(attachments) == {"Geschäftsbedingungen.pdf", "prices.csv"}

    items = list(
        mailbox.outlook.fetch(
            ids=[(received, None), (sent, None)], only_fields=["categories", FILED_FIELD]
        )
    )
    assert [item.categories for item in items] == [[FILED_CATEGORY], [FILED_CATEGORY]]
    assert [getattr(item, FILED_FIELD) for item in items] == [f["communication_id"] for f in filed]

    before = counts(db)
    again = file_items(api, headers, [received], [{"entity": "person", "id": anna}]).json()
    assert again[0]["communication_id"] == filed[0]["communication_id"]
    assert (again[0]["created"], again[0]["linked"]) == (False, [])
    assert counts(db) == before
    (item,) = mailbox.outlook.fetch(ids=[(received, None)], only_fields=["categories"])
    assert item.categories == [FILED_CATEGORY]


def test_an_attached_email_files_its_own_attachments_too(
    api: TestClient, headers: dict[str, str], mailbox: Mailbox
) -> None:
    db = mailbox.db
    anna = crm_records.person(db, "Anna", "Berg", email="anna.berg@northwind.example")
    db.commit()
    # Built from properties, so the simulator synthesises its MIME as Exchange does.
    inner = Message(subject="Signed offer", body="The scan.")
    inner.attach(FileAttachment(name="scan.png", content=b"\x89PNG", content_type="image/png"))
    message = Message(
        account=mailbox.outlook,
        folder=mailbox.outlook.inbox,
        subject="Contract and offer",
        body="Both attached.",
        to_recipients=["anna.berg@northwind.example"],
    )
    pdf = b"%PDF-1.4\n%%EOF\n"
    message.attach(FileAttachment(name="contract.pdf", content=pdf, content_type="application/pdf"))
    message.attach(ItemAttachment(name="Signed offer", item=inner))
    message.save()

    response = file_items(api, headers, [str(message.id)], [{"entity": "person", "id": anna}])
    assert response.status_code == 200, response.text
    (filed,) = response.json()
    files = db.scalars(
        select(Library.libr_filename).where(
            Library.libr_communicationid == filed["communication_id"]
        )
    ).all()
    assert {"contract.pdf", "scan.png"} <= set(files)


def test_existing_categories_are_kept(
    api: TestClient, headers: dict[str, str], mailbox: Mailbox
) -> None:
    company = crm_records.company(mailbox.db, "Northwind")
    mailbox.db.commit()
    item_id = put_in(mailbox.outlook, "multipart-alternative.eml")
    (item,) = mailbox.outlook.fetch(ids=[(item_id, None)], only_fields=["categories"])
    item.categories = ["Customer"]
    item.save(update_fields=["categories"])
    response = file_items(api, headers, [item_id], [{"entity": "company", "id": company}])
    assert response.status_code == 200, response.text
    (item,) = mailbox.outlook.fetch(ids=[(item_id, None)], only_fields=["categories"])
    assert item.categories == ["Customer", FILED_CATEGORY]


def test_filed_emails_move_to_the_configured_folder(
    database: Database, headers: dict[str, str], mailbox: Mailbox
) -> None:
    company = crm_records.company(mailbox.db, "Northwind")
    mailbox.db.commit()
    first = put_in(mailbox.outlook, "multipart-alternative.eml")
    second = put_in(mailbox.outlook, "inline-image.eml")
    with client_for(database, filing_folder=FILING_FOLDER) as api:
        response = file_items(api, headers, [first], [{"entity": "company", "id": company}])
        assert response.status_code == 200, response.text
        # the folder exists now: the second filing finds it rather than creating another
        response = file_items(api, headers, [second], [{"entity": "company", "id": company}])
        assert response.status_code == 200, response.text
    folders = [f for f in mailbox.outlook.msg_folder_root.children if f.name == FILING_FOLDER]
    assert len(folders) == 1
    moved = list(folders[0].all().only("subject", "categories", FILED_FIELD))
    assert sorted(m.subject for m in moved) == ["Our new logo", "Quarterly review: agenda"]
    assert all(m.categories == [FILED_CATEGORY] for m in moved)
    assert mailbox.outlook.inbox.all().count() == 0


def other_mailbox(simulator: SimulatorServer, smtp: str) -> Account:
    return client_account(simulator.ews_url, smtp, "secret")


def test_an_item_id_from_another_mailbox_is_refused_and_nothing_is_written(
    api: TestClient, headers: dict[str, str], mailbox: Mailbox, simulator: SimulatorServer
) -> None:
    company = crm_records.company(mailbox.db, "Northwind")
    mailbox.db.commit()
    own = put_in(mailbox.outlook, "attachments.eml")
    foreign = put_in(other_mailbox(simulator, "bob@example.com"), "multipart-alternative.eml")
    before = counts(mailbox.db)
    response = file_items(api, headers, [own, foreign], [{"entity": "company", "id": company}])
    assert response.status_code == 422
    assert foreign in response.json()["detail"] and own not in response.json()["detail"]
    assert "jane@example.com" in response.json()["detail"]
    assert counts(mailbox.db) == before
    response = file_items(api, headers, ["not-an-id"], [{"entity": "company", "id": company}])
    assert response.status_code == 422 and "not-an-id" in response.json()["detail"]


def test_an_exchange_failure_while_marking_rolls_the_filing_back(
    api: TestClient, headers: dict[str, str], mailbox: Mailbox, simulator: SimulatorServer
) -> None:
    company = crm_records.company(mailbox.db, "Northwind")
    mailbox.db.commit()
    item_id = put_in(mailbox.outlook, "attachments.eml")
    before = counts(mailbox.db)
    simulator.add_fault("irresolvable_conflict", "UpdateItem")
    response = file_items(api, headers, [item_id], [{"entity": "company", "id": company}])
    assert response.status_code == 502
    assert "marking the emails as filed failed" in response.json()["detail"]
    assert counts(mailbox.db) == before
    response = file_items(api, headers, [item_id], [{"entity": "company", "id": company}])
    assert response.status_code == 200 and response.json()[0]["created"] is True


def test_an_admin_files_from_a_users_mailbox(api: TestClient, mailbox: Mailbox) -> None:
    company = crm_records.company(mailbox.db, "Northwind")
    admin_headers = {"Authorization": f"Bearer {admin_key(mailbox.db)}"}
    mailbox.db.commit()
    item_id = put_in(mailbox.outlook, "attachments.eml")
    response = api.post(
        "/api/v1/filings",
        headers=admin_headers,
        json={
            "item_ids": [item_id],
            "targets": [{"entity": "company", "id": company}],
            "user_id": mailbox.user_id,
        },
    )
    assert response.status_code == 200, response.text


def test_suggestions_for_mailbox_emails(
    api: TestClient, headers: dict[str, str], mailbox: Mailbox
) -> None:
    db = mailbox.db
    northwind = crm_records.company(db, "Northwind", website="northwind.example")
    anna = crm_records.person(
        db, "Anna", "Berg", email="anna.berg@northwind.example", company_name="Northwind"
    )
    ticket = crm_records.case(db, "Broken widget")
    case_row = db.get(Case, ticket)
    assert case_row is not None
    case_row.case_primarypersonid = anna
    db.commit()
    item_id = put_in(mailbox.outlook, "multipart-alternative.eml")
    response = api.post(
        "/api/v1/filings/suggestions", headers=headers, json={"item_ids": [item_id]}
    )
    assert response.status_code == 200, response.text
    (email,) = response.json()
    found = [(r["entity"], r["id"], r["reasons"]) for r in email["records"]]
    assert found == [
        ("person", anna, ["sender anna.berg@northwind.example"]),
        ("company", northwind, ["company of Anna Berg", "domain northwind.example"]),
        ("case", ticket, ["open case of Anna Berg"]),
    ]
