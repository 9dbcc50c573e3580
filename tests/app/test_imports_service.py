"""Importing contact files into the CRM: Sage-style rows, duplicates, dry runs, re-runs, batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crm import writer
from app.crm.flags import flagged_person_ids
from app.crm.people import load_people
from app.db import Database, unit_of_work
from app.imports import service
from app.imports.parsers import ContactFile
from app.models.crm import (
    ENTITY_PERSON,
    AddressLink,
    Company,
    Email,
    EmailLink,
    Person,
    Phone,
    PhoneLink,
)
from app.models.imports import ContactImport, ImportStatus
from tests.factories.imports import (
    FIXTURES,
    company,
    crm_user,
    existing_person,
    import_file,
    report,
    write_csv,
)

OUTLOOK = FIXTURES / "outlook_utf8_bom.csv"
CRM_TABLES = (Person, Company, Email, EmailLink, Phone, PhoneLink, AddressLink)


def _table_counts(db: Session) -> dict[str, int]:
    return {
        m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0 for m in CRM_TABLES
    }


def _outcomes(database: Database, import_id: int) -> dict[str, tuple[str, str]]:
    return {line["row"]: (line["outcome"], line["reason"]) for line in report(database, import_id)}


def test_rows_become_persons_with_company_email_phone_and_address_rows(
    database: Database, db: Session
) -> None:
    result = import_file(database, OUTLOOK, create_companies=True)
    assert result.status is ImportStatus.DONE
    assert (result.rows_total, result.rows_done) == (6, 6)
    assert result.counts == {"imported": 4, "invalid": 2}
    assert result.warnings == ["columns ignored: E-mail Display Name, Notes"]

    lines = {line["row"]: line for line in report(database, result.import_id)}
    ada_id = int(lines["2"]["person_id"])
    assert lines["2"]["contact"] == "Ada Lovelace <ada@engines.example.com>"
    ada = load_people(db, [ada_id])[ada_id]
    assert ada["company.comp_name"] == "Analytical Engines"
    assert ada["email.Private"] == "ada@home.example.com"
    assert ada["phone.Business"] == "+44 (20) 7946 0958"
    assert ada["address.street"] == "12 Byron Road\nFloor 2"
    assert ada["pers_title"] == "Engineer"
    links = db.scalars(select(EmailLink).where(EmailLink.elink_recordid == ada_id)).all()
    assert {(link.elink_entityid, link.elink_type) for link in links} == {
        (ENTITY_PERSON, "Business"),
        (ENTITY_PERSON, "Private"),
    }
    address_link = db.scalars(select(AddressLink).where(AddressLink.adli_personid == ada_id)).one()
    assert address_link.adli_type == "Business"
    # One company for both of its people, created once.
    charles_id = int(lines["3"]["person_id"])
    companies = db.scalars(select(Company).where(Company.comp_name == "Analytical Engines")).all()
    assert len(companies) == 1
    assert db.get(Person, charles_id).pers_companyid == companies[0].comp_companyid  # type: ignore[union-attr]


def test_companies_are_linked_by_exact_name_and_created_only_when_asked(
    database: Database, db: Session
) -> None:
    park = company(db, "Bletchley Park")
    db.commit()
    result = import_file(database, OUTLOOK)
    lines = {line["row"]: line for line in report(database, result.import_id)}
    alan = db.get(Person, int(lines["9"]["person_id"]))
    assert alan is not None and alan.pers_companyid == park
    ada = db.get(Person, int(lines["2"]["person_id"]))
    assert ada is not None and ada.pers_companyid is None
    assert lines["2"]["reason"] == (
        "no company named 'Analytical Engines' in the CRM: the person has no company"
    )
    assert db.scalar(select(func.count()).select_from(Company)) == 1


def test_invalid_rows_carry_their_row_number_and_reason(database: Database) -> None:
    result = import_file(database, OUTLOOK)
    outcomes = _outcomes(database, result.import_id)
    assert outcomes["7"] == (
        "invalid",
        "E-mail Address: 'not-an-address' is not an SMTP address such as jane@example.com",
    )
    assert outcomes["8"] == ("invalid", "no name, email or company")


def test_report_csv_has_one_line_per_row(database: Database) -> None:
    result = import_file(database, OUTLOOK)
    text = "".join(service.report_lines(database, result.import_id))
    lines = text.splitlines()
    assert lines[0] == '"row","outcome","reason","person_id","contact"'
    assert [line.split(",")[0] for line in lines[1:]] == ['"2"', '"3"', '"6"', '"7"', '"8"', '"9"']
    assert lines[5] == '"8","invalid","no name, email or company","",""'


def test_duplicates_of_existing_persons_by_email_then_by_name_and_company(
    database: Database, db: Session
) -> None:
    by_email = existing_person(
        db, pers_lastname="Someone Else", **{"email.Business": "ADA@engines.example.com"}
    )
    company(db, "Bletchley Park")
    by_name = existing_person(
        db, pers_firstname="alan", pers_lastname="TURING", **{"company.comp_name": "Bletchley Park"}
    )
    # Same name, other company: not the same person.
    company(db, "US Navy")
    company(db, "Other Corp")
    existing_person(
        db, pers_firstname="Grace", pers_lastname="Hopper", **{"company.comp_name": "Other Corp"}
    )
    db.commit()
    result = import_file(database, OUTLOOK)
    lines = {line["row"]: line for line in report(database, result.import_id)}
    assert (lines["2"]["outcome"], lines["2"]["person_id"]) == ("duplicate", str(by_email))
    assert lines["2"]["reason"] == f"person {by_email} has this e-mail address"
    assert (lines["9"]["outcome"], lines["9"]["person_id"]) == ("duplicate", str(by_name))
    assert lines["9"]["reason"] == f"person {by_name} has this name and company"
    assert lines["6"]["outcome"] == "imported"
    assert result.counts == {"imported": 2, "duplicate": 2, "invalid": 2}


def test_duplicates_within_the_file(database: Database, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "twice.csv",
        [
            ["First Name", "Last Name", "Company", "E-mail Address", "E-mail 2 Address"],
            ["Ann", "Lee", "Acme", "ann@acme.example.com", ""],
            ["Annie", "Lee", "", "", "ANN@acme.example.com"],
            ["ann", "LEE", "Acme", "", ""],
            ["Ann", "Lee", "Other", "", ""],
            ["", "", "Acme", "info@acme.example.com", ""],
            ["", "", "Acme", "sales@acme.example.com", ""],
        ],
    )
    result = import_file(database, path, create_companies=True)
    outcomes = _outcomes(database, result.import_id)
    assert outcomes == {
        "2": ("imported", ""),
        "3": ("duplicate", "same e-mail address as row 2"),
        "4": ("duplicate", "same name and company as row 2"),
        "5": ("imported", ""),
        # Nameless rows with different addresses are different people.
        "6": ("imported", ""),
        "7": ("imported", ""),
    }
    lines = {line["row"]: line for line in report(database, result.import_id)}
    assert lines["3"]["person_id"] == lines["2"]["person_id"]


def test_dry_run_reports_and_writes_nothing_to_the_crm(database: Database, db: Session) -> None:
    existing_person(db, pers_lastname="X", **{"email.Business": "grace@navy.example.com"})
    db.commit()
    before = _table_counts(db)
    result = import_file(database, OUTLOOK, dry_run=True, create_companies=True)
    assert result.status is ImportStatus.DONE and result.dry_run
    assert result.counts == {"new": 3, "duplicate": 1, "invalid": 2}
    assert _table_counts(db) == before
    assert _outcomes(database, result.import_id)["2"] == ("new", "")


def test_running_the_same_import_again_adds_nothing(database: Database, db: Session) -> None:
    first = import_file(database, OUTLOOK)
    after_first = _table_counts(db)
    second = import_file(database, OUTLOOK)
    assert _table_counts(db) == after_first
    assert first.counts == {"imported": 4, "invalid": 2}
    assert second.counts == {"duplicate": 4, "invalid": 2}


def test_imported_persons_are_flagged_for_the_user(database: Database, db: Session) -> None:
    user_id = crm_user(db)
    db.commit()
    result = import_file(database, FIXTURES / "contacts_v4.vcf", user_id=user_id)
    imported = {
        int(line["person_id"])
        for line in report(database, result.import_id)
        if line["outcome"] == "imported"
    }
    assert len(imported) == 2
    assert flagged_person_ids(db, user_id) == imported
    person = db.get(Person, min(imported))
    assert person is not None and person.created_by == user_id


def test_vcard_files_import_like_csv(database: Database, db: Session) -> None:
    result = import_file(database, FIXTURES / "contacts_v3.vcf", create_companies=True)
    assert result.counts == {"imported": 4, "invalid": 1}
    lines = {line["row"]: line for line in report(database, result.import_id)}
    ada_id = int(lines["1"]["person_id"])
    ada = load_people(db, [ada_id])[ada_id]
    assert ada["company.comp_name"] == "Analytical Engines, Ltd"
    assert ada["phone.Fax"] == "+44 20 7946 0000"
    assert ada["address.addr_country"] == "United Kingdom"


def test_batches_commit_whole_report_progress_and_resume_after_a_failure(
    database: Database, db: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(service, "BATCH_SIZE", 2)
    path = write_csv(
        tmp_path / "five.csv",
        [["First Name", "Last Name"], *[[f"P{n}", "Batch"] for n in range(5)]],
    )
    create_many = writer.PersonWriter.create_many

    def fail_on_p3(
        writer: writer.PersonWriter, values: list[dict[str, str | None]]
    ) -> list[Person]:
        if any(v.get("pers_firstname") == "P3" for v in values):
            raise RuntimeError("database went away")
        return create_many(writer, values)

    monkeypatch.setattr(writer.PersonWriter, "create_many", fail_on_p3)
    progress: list[tuple[int, int]] = []
    with unit_of_work(database) as session:
        job = service.create_import(session, ContactFile(path), "five.csv", service.ImportOptions())
        import_id = job.id
    failed = service.run_import(database, import_id, lambda *p: progress.append(p))
    assert failed is not None and failed.status is ImportStatus.FAILED
    assert failed.error == "database went away"
    assert progress == [(0, 5), (2, 5)]
    assert failed.rows_done == 2
    # P2 shared the failed batch with P3: it was rolled back with it.
    names = set(db.scalars(select(Person.pers_firstname).where(Person.pers_lastname == "Batch")))
    assert names == {"P0", "P1"}

    # A re-delivered job (its worker died while running) resumes after the committed rows.
    monkeypatch.setattr(writer.PersonWriter, "create_many", create_many)
    db.get(ContactImport, import_id).status = ImportStatus.RUNNING  # type: ignore[union-attr]
    db.commit()
    progress.clear()
    resumed = service.run_import(database, import_id, lambda *p: progress.append(p))
    assert resumed is not None and resumed.status is ImportStatus.DONE
    assert progress == [(2, 5), (4, 5), (5, 5)]
    assert resumed.counts == {"imported": 5}
    names = list(db.scalars(select(Person.pers_firstname).where(Person.pers_lastname == "Batch")))
    assert sorted(names) == ["P0", "P1", "P2", "P3", "P4"]
    assert [line["row"] for line in report(database, import_id)] == ["2", "3", "4", "5", "6"]
    # Finished imports are left alone when delivered again.
    assert service.run_import(database, import_id) == resumed


def test_within_file_duplicates_span_batches_in_a_dry_run(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(service, "BATCH_SIZE", 2)
    path = write_csv(
        tmp_path / "spread.csv",
        [["Last Name", "E-mail Address"], ["A", "a@x.example.com"], ["B", ""], ["C", ""],
         ["A2", "A@X.example.com"]],
    )  # fmt: skip
    result = import_file(database, path, dry_run=True)
    assert _outcomes(database, result.import_id)["5"] == (
        "duplicate",
        "same e-mail address as row 2",
    )


def test_a_vanished_file_fails_the_import(database: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gone.csv", [["Last Name"], ["Gone"]])
    with unit_of_work(database) as session:
        import_id = service.create_import(
            session, ContactFile(path), "gone.csv", service.ImportOptions()
        ).id
    path.unlink()
    result = service.run_import(database, import_id)
    assert result is not None and result.status is ImportStatus.FAILED
    assert result.error is not None and "cannot read" in result.error
