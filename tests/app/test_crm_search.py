"""CRM records for the add-in: searching live records, and adding a sender as a person."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crm.flags import flagged_person_ids
from app.crm.people import load_people
from app.models.crm import Person
from tests.factories import crm_records
from tests.factories.users import sync_user, user_token

Headers = dict[str, str]


def _user(db: Session, logon: str) -> tuple[int, Headers]:
    user_id = sync_user(db, logon=logon)
    token = user_token(db, logon)
    db.commit()
    return user_id, {"Authorization": f"Bearer {token}"}


def _found(client: TestClient, headers: Headers, query: str) -> list[tuple[str, str]]:
    response = client.get(f"/api/v1/crm/search?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [(record["entity"], record["label"]) for record in response.json()]


def test_search_finds_live_records_of_every_kind(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    acme = crm_records.company(db, "Acme Corporation", website="https://acme.example")
    crm_records.company(db, "Acme Old", deleted=True)
    crm_records.person(
        db, "Wile", "Coyote", email="wile@acme.example", company_name="Acme Corporation"
    )
    crm_records.person(db, "Gone", "Acmeson", deleted=True)
    crm_records.opportunity(db, "Acme rocket skates", company_id=acme)
    crm_records.case(db, "Acme anvil fell early")
    crm_records.case(db, "Acme case soft-deleted", deleted=1)
    crm_records.case(db, "Acme case live with a zero flag", deleted=0)
    db.commit()

    found = _found(client, admin_headers, "q=acme")
    assert sorted(found) == [
        ("case", "Acme anvil fell early"),
        ("case", "Acme case live with a zero flag"),
        ("company", "Acme Corporation"),
        ("opportunity", "Acme rocket skates"),
        ("person", "Wile Coyote"),  # by the email address
    ]
    records = client.get("/api/v1/crm/search?q=coyote", headers=admin_headers).json()
    assert records == [
        {
            "entity": "person",
            "id": records[0]["id"],
            "label": "Wile Coyote",
            "detail": "wile@acme.example · Acme Corporation",
        }
    ]


def test_search_by_full_name_one_entity_and_case_insensitively(
    client: TestClient, db: Session
) -> None:
    crm_records.person(db, "Jane", "Doe", email="jane@example.com")
    crm_records.company(db, "Jane Doe Ltd")
    _user_id, headers = _user(db, "alice")

    assert _found(client, headers, "q=JANE%20doe") == [
        ("person", "Jane Doe"),
        ("company", "Jane Doe Ltd"),
    ]
    assert _found(client, headers, "q=jane doe&entity=company") == [("company", "Jane Doe Ltd")]


def test_search_treats_wildcards_as_text_and_caps_the_results(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    crm_records.company(db, "100% Widgets")
    crm_records.company(db, "1000 Widgets")
    for n in range(30):
        crm_records.company(db, f"Bulk company {n}")
    db.commit()

    assert _found(client, admin_headers, "q=100%25") == [("company", "100% Widgets")]
    assert len(_found(client, admin_headers, "q=bulk")) == 25


def test_search_needs_a_token_and_valid_parameters(
    client: TestClient, admin_headers: Headers
) -> None:
    assert client.get("/api/v1/crm/search?q=x").status_code == 401
    assert client.get("/api/v1/crm/search?q=", headers=admin_headers).status_code == 422
    wrong = client.get("/api/v1/crm/search?q=x&entity=lead", headers=admin_headers)
    assert wrong.status_code == 422
    assert "query.entity" in wrong.json()["detail"]


def test_adding_a_person_links_email_and_company_and_flags_it(
    client: TestClient, db: Session
) -> None:
    acme = crm_records.company(db, "Acme Corporation")
    user_id, headers = _user(db, "alice")
    body = {
        "first_name": "Road",
        "last_name": "Runner",
        "email": "Road.Runner@Example.com",
        "company_name": "Acme Corporation",
        "title": "Sprinter",
    }
    response = client.post("/api/v1/crm/persons", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["entity"] == "person"
    assert created["label"] == "Road Runner"
    assert created["company_id"] == acme
    assert created["flagged_for_user_id"] == user_id

    values = load_people(db, [created["id"]])[created["id"]]
    assert values["email.Business"] == "road.runner@example.com"
    assert values["company.comp_name"] == "Acme Corporation"
    assert values["pers_title"] == "Sprinter"
    person = db.scalars(select(Person).where(Person.pers_personid == created["id"])).one()
    assert person.created_by == user_id and person.pers_primaryuserid == user_id
    assert created["id"] in flagged_person_ids(db, user_id)

    again = client.post("/api/v1/crm/persons", json=body, headers=headers)
    assert again.status_code == 409
    assert "already the email of CRM person" in again.json()["detail"]


def test_adding_a_person_is_validated(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    _user_id, headers = _user(db, "alice")
    invalid = client.post(
        "/api/v1/crm/persons", json={"last_name": "", "email": "nope"}, headers=headers
    )
    assert invalid.status_code == 422
    assert "body.last_name" in invalid.json()["detail"]
    assert "body.email" in invalid.json()["detail"]

    unknown_company = {"last_name": "Runner", "email": "rr@example.com", "company_name": "Acme"}
    response = client.post("/api/v1/crm/persons", json=unknown_company, headers=headers)
    assert response.status_code == 422
    assert "no CRM company is named exactly 'Acme'" in response.json()["detail"]

    for_nobody = client.post(
        "/api/v1/crm/persons",
        json={"last_name": "Runner", "email": "rr@example.com"},
        headers=admin_headers,
    )
    assert for_nobody.status_code == 422
    assert "body.user_id" in for_nobody.json()["detail"]
