"""The contact import API: upload, status, report; size limit, validation, admin only."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.imports import service
from app.main import create_app
from app.models.crm import Person
from app.models.imports import ContactImport
from tests.factories.imports import FIXTURES, write_csv
from tests.factories.users import sync_user, user_token


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[object, ...]]]:
    """Jobs the API enqueued; the real worker is exercised in tests/workers."""
    calls: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(
        service.jobs, "enqueue", lambda name, *args, **_: calls.append((name, args))
    )
    return calls


def _upload(
    client: TestClient, headers: dict[str, str], path: Path, **form: str
) -> tuple[int, dict[str, object]]:
    with path.open("rb") as file:
        response = client.post(
            "/api/v1/imports/contacts",
            headers=headers,
            files={"file": (path.name, file, "text/csv")},
            data=form,
        )
    return response.status_code, response.json()


def test_upload_queues_an_import_whose_progress_and_report_the_api_shows(
    client: TestClient,
    admin_headers: dict[str, str],
    database: Database,
    db: Session,
    enqueued: list[tuple[str, tuple[object, ...]]],
) -> None:
    status, body = _upload(client, admin_headers, FIXTURES / "outlook_cp1252.csv", dry_run="true")
    assert status == 202, body
    import_id = body["import_id"]
    assert isinstance(import_id, int)
    assert enqueued == [("imports.contacts", (import_id,))]
    job = db.get(ContactImport, import_id)
    assert job is not None
    stored = Path(job.file_path)
    assert stored.parent.name == str(import_id)
    assert stored.read_bytes() == (FIXTURES / "outlook_cp1252.csv").read_bytes()

    queued = client.get(f"/api/v1/imports/{import_id}", headers=admin_headers).json()
    assert queued["status"] == "queued"
    assert (queued["rows_total"], queued["rows_done"], queued["format"]) == (None, 0, "csv")

    service.run_import(database, import_id)  # what the worker does
    done = client.get(f"/api/v1/imports/{import_id}", headers=admin_headers).json()
    assert done["status"] == "done"
    assert (done["rows_total"], done["rows_done"]) == (3, 3)
    assert done["counts"] == {"new": 3}
    assert done["dry_run"] is True and done["finished_at"] is not None

    response = client.get(f"/api/v1/imports/{import_id}/report.csv", headers=admin_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert [(line["row"], line["outcome"], line["contact"]) for line in lines] == [
        ("2", "new", "José Müller <jose@cafe.example.com>"),
        ("3", "new", "Zoë Ångström"),
        ("4", "new", "François Lefèvre <francois@sg.example.com>"),
    ]


def test_unknown_import_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/imports/999999", headers=admin_headers).status_code == 404
    report = client.get("/api/v1/imports/999999/report.csv", headers=admin_headers)
    assert report.status_code == 404


def test_unknown_user_and_unreadable_files_are_422(
    client: TestClient,
    admin_headers: dict[str, str],
    tmp_path: Path,
    enqueued: list[tuple[str, tuple[object, ...]]],
) -> None:
    status, body = _upload(client, admin_headers, FIXTURES / "contacts_v4.vcf", user_id="987654")
    assert status == 422
    assert body["detail"] == "user_id: no CRM user 987654"
    spreadsheet = tmp_path / "sales.csv"
    spreadsheet.write_text("id,amount\n1,2\n")
    status, body = _upload(client, admin_headers, spreadsheet)
    assert status == 422
    assert "not an Outlook CSV export or a vCard file" in str(body["detail"])
    assert enqueued == []


def test_oversized_upload_is_413_and_leaves_no_file(
    database: Database, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", max_import_bytes=100)
    with TestClient(create_app(settings=settings, database=database)) as small_client:
        status, body = _upload(small_client, admin_headers, FIXTURES / "outlook_utf8_bom.csv")
    assert status == 413
    assert "CRMSYNC_MAX_IMPORT_BYTES" in str(body["detail"])
    assert list((tmp_path / "data" / "imports").iterdir()) == []


@pytest.fixture
def user_headers(db: Session) -> dict[str, str]:
    sync_user(db, logon="plainuser")
    token = user_token(db, "plainuser")
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_user_token_is_403(
    client: TestClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    status, _ = _upload(client, user_headers, FIXTURES / "contacts_v4.vcf")
    assert status == 403
    assert client.get("/api/v1/imports/1", headers=user_headers).status_code == 403
    assert client.get("/api/v1/imports/1/report.csv", headers=user_headers).status_code == 403


def test_report_csv_neutralises_formulas_while_the_crm_keeps_the_values_as_imported(
    client: TestClient,
    admin_headers: dict[str, str],
    database: Database,
    db: Session,
    tmp_path: Path,
    enqueued: list[tuple[str, tuple[object, ...]]],
) -> None:
    # Leading tabs and carriage returns do not survive the import's trimming of names; the
    # writer's own test covers them.
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]
    rows = [["First Name", "Last Name", "Company"]]
    rows += [[value, f"Row{index}", f"{value}, Inc"] for index, value in enumerate(hostile)]
    path = write_csv(tmp_path / "hostile.csv", rows)
    status, body = _upload(client, admin_headers, path)
    assert status == 202, body
    import_id = body["import_id"]
    service.run_import(database, import_id)

    response = client.get(f"/api/v1/imports/{import_id}/report.csv", headers=admin_headers)
    assert response.status_code == 200
    lines = list(csv.DictReader(io.StringIO(response.text, newline="")))
    contacts = [line["contact"] for line in lines]
    assert contacts == [f"'{value} Row{index}" for index, value in enumerate(hostile)]
    # Every field quoted: a comma or line break inside a value cannot open a new cell or row.
    assert all(line.startswith('"') for line in response.text.split("\r\n") if line), response.text
    stored = db.scalars(
        select(Person.pers_firstname).where(Person.pers_lastname.like("Row%"))
    ).all()
    assert sorted(stored) == sorted(hostile)
