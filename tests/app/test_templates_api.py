"""Details templates: defaults, rendering, and refusal of templates that cannot render."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.sync_settings.schemas import SyncEntity
from app.templates.schemas import (
    CaseDetails,
    CompanyDetails,
    DetailsContext,
    OpportunityDetails,
    PersonDetails,
)
from app.templates.service import DEFAULT_TEMPLATE, check_template, render_details
from tests.factories.headers import user_with_headers

GUARDED = (
    "{% if company %}Company: {{ company.name }} / {{ company.website }}{% endif %}\n"
    "{% if user %}Owner: {{ user.name | upper }}{% endif %}"
)


def test_default_template(client: TestClient, admin_headers: dict[str, str]) -> None:
    for entity in ("appointments", "tasks"):
        response = client.get(f"/api/v1/templates/{entity}", headers=admin_headers)
        assert response.status_code == 200
        assert response.json() == {
            "entity": entity,
            "template": DEFAULT_TEMPLATE,
            "is_default": True,
        }
    check_template(DEFAULT_TEMPLATE)


def test_default_rendering_omits_what_is_missing(db: Session) -> None:
    full = DetailsContext(
        company=CompanyDetails(name="Acme Ltd", phone="0123"),
        person=PersonDetails(
            salutation="Ms", first_name="Jane", last_name="Doe", phone="0456", email="j@acme.test"
        ),
        opportunity=OpportunityDetails(description="Renewal", stage="Proposal"),
        case=CaseDetails(description="Printer jams", status="Pending"),
    )
    assert render_details(db, SyncEntity.APPOINTMENTS, full) == (
        "Company: Acme Ltd (0123)\n"
        "Contact: Ms Jane Doe (0456, j@acme.test)\n"
        "Opportunity: Renewal (Proposal)\n"
        "Case: Printer jams (Pending)"
    )
    partial = DetailsContext(
        company=CompanyDetails(name="Acme Ltd"), person=PersonDetails(last_name="Doe")
    )
    assert render_details(db, SyncEntity.TASKS, partial) == "Company: Acme Ltd\nContact: Doe"
    assert render_details(db, SyncEntity.TASKS, DetailsContext()) == ""


def test_saved_template_renders_for_its_entity_only(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    response = client.put(
        "/api/v1/templates/tasks", json={"template": GUARDED}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"entity": "tasks", "template": GUARDED, "is_default": False}
    assert client.get("/api/v1/templates/tasks", headers=admin_headers).json()["template"] == (
        GUARDED
    )
    context = DetailsContext(company=CompanyDetails(name="Acme & Sons <Ltd>"))
    # Plain text: no HTML escaping; None renders as empty text.
    assert render_details(db, SyncEntity.TASKS, context) == "Company: Acme & Sons <Ltd> /"
    assert render_details(db, SyncEntity.APPOINTMENTS, context) == "Company: Acme & Sons <Ltd>"

    reset = client.delete("/api/v1/templates/tasks", headers=admin_headers)
    assert reset.json()["is_default"] is True
    assert render_details(db, SyncEntity.TASKS, context) == "Company: Acme & Sons <Ltd>"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Company: {{ company.name }\n", "body.template: line 1: unexpected '}'"),
        ("ok\n{% if company %}\nno end", "body.template: line 2: Unexpected end of template"),
        ("{{ customer }}", "does not render with every linked record filled in: 'customer'"),
        (
            "{% if company %}{{ company.fax }}{% endif %}",
            "line 1: does not render with every linked record filled in",
        ),
        ("Company: {{ company.name }}", "does not render with no linked records"),
        (
            "{% if company %}{{ person.first_name }}{% endif %}",
            "does not render with only a company linked",
        ),
        (
            "{% if company %}{{ company.name.upper() }}{% endif %}",
            "does not render with linked records whose fields are all empty",
        ),
        ("{{ ''.__class__.__mro__ }}", "does not render"),
        ("{{ 'x' * 5000 }}", "repetition beyond 4096"),
        ("{% for i in range(10**6) %}{% endfor %}", "range() is limited"),
        ("{% for i in range(200) %}{{ '%040d' % i }}{% endfor %}", "more than 4096 characters"),
        ("{{ 1 / 0 }}", "division by zero"),
        ("{% set x = [] %}{{ x.append(1) }}", "does not render"),
    ],
)
def test_templates_that_cannot_render_are_refused(
    client: TestClient, admin_headers: dict[str, str], template: str, expected: str
) -> None:
    response = client.put(
        "/api/v1/templates/appointments", json={"template": template}, headers=admin_headers
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("body.template: ")
    assert expected in detail
    still = client.get("/api/v1/templates/appointments", headers=admin_headers).json()
    assert still["is_default"] is True


def test_template_routes_and_access(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    assert client.get("/api/v1/templates/contacts", headers=admin_headers).status_code == 404
    put = client.put("/api/v1/templates/contacts", json={"template": "x"}, headers=admin_headers)
    assert put.status_code == 404
    assert client.get("/api/v1/templates/notes", headers=admin_headers).status_code == 422
    too_long = client.put(
        "/api/v1/templates/tasks", json={"template": "x" * 20_001}, headers=admin_headers
    )
    assert too_long.status_code == 422
    assert "body.template" in too_long.json()["detail"]

    _user_id, headers = user_with_headers(db, "fred")
    assert client.get("/api/v1/templates/tasks", headers=headers).status_code == 403
    forbidden = client.put("/api/v1/templates/tasks", json={"template": "x"}, headers=headers)
    assert forbidden.status_code == 403


def test_a_template_failing_on_real_data_falls_back_to_the_default(db: Session) -> None:
    from app.models.config import DetailsTemplate

    # Saved behind the API's back: the API would refuse it.
    db.add(DetailsTemplate(entity="tasks", template="{{ company.name }}"))
    db.flush()
    context = DetailsContext(case=CaseDetails(description="Printer jams"))
    assert render_details(db, SyncEntity.TASKS, context) == "Case: Printer jams"
