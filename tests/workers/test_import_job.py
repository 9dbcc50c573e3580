"""An uploaded contact file is imported by a real worker through the real Redis broker."""

from __future__ import annotations

import csv
import io
import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.crm.flags import flagged_person_ids
from app.db import Database, unit_of_work
from app.main import create_app
from app.models.crm import Person
from tests.factories.imports import FIXTURES, crm_user
from tests.factories.users import admin_key


def test_upload_is_imported_by_a_worker(committed_database: Database, celery_worker: None) -> None:
    with unit_of_work(committed_database) as db:
        user_id = crm_user(db)
        headers = {"Authorization": f"Bearer {admin_key(db)}"}
    path = FIXTURES / "outlook_utf8_bom.csv"
    with TestClient(create_app(database=committed_database)) as client:
        with path.open("rb") as file:
            response = client.post(
                "/api/v1/imports/contacts",
                headers=headers,
                files={"file": (path.name, file, "text/csv")},
                data={"user_id": str(user_id), "create_companies": "true"},
            )
        assert response.status_code == 202, response.text
        import_id = response.json()["import_id"]

        deadline = time.monotonic() + 30
        state = client.get(f"/api/v1/imports/{import_id}", headers=headers).json()
        while state["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            state = client.get(f"/api/v1/imports/{import_id}", headers=headers).json()
        assert state["status"] == "done", state
        assert (state["rows_done"], state["rows_total"]) == (6, 6)
        assert state["counts"] == {"imported": 4, "invalid": 2}

        report = client.get(f"/api/v1/imports/{import_id}/report.csv", headers=headers)
    lines = list(csv.DictReader(io.StringIO(report.text)))
    imported = {int(line["person_id"]) for line in lines if line["outcome"] == "imported"}
    with unit_of_work(committed_database) as db:
        assert flagged_person_ids(db, user_id) == imported
        names = set(
            db.scalars(select(Person.pers_lastname).where(Person.pers_personid.in_(imported)))
        )
    assert names == {"Lovelace", "Babbage", "Hopper", "Turing"}
