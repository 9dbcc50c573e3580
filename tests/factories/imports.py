"""Factories for contact imports: CRM records to collide with, and imports run in-process."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy.orm import Session

from app.crm.writer import PersonWriter
from app.db import Database, unit_of_work
from app.imports.parsers import ContactFile
from app.imports.schemas import ImportRead
from app.imports.service import ImportOptions, create_import, report_lines, run_import
from app.models.crm import Company, User

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def crm_user(db: Session, logon: str = "importer") -> int:
    user = User(user_logon=logon, user_firstname="Imp", user_lastname="Orter")
    db.add(user)
    db.flush()
    return user.user_userid


def company(db: Session, name: str) -> int:
    row = Company(comp_name=name)
    db.add(row)
    db.flush()
    return row.comp_companyid


def existing_person(db: Session, **values: str) -> int:
    """A person already in the CRM, e.g. existing_person(db, **{"email.Business": "a@b.com"})."""
    return PersonWriter(db, None, create_companies=False).create(values).pers_personid


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A CSV file from rows, the first of them the header."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def import_file(
    database: Database,
    path: Path,
    *,
    user_id: int | None = None,
    dry_run: bool = False,
    create_companies: bool = False,
) -> ImportRead:
    with unit_of_work(database) as db:
        options = ImportOptions(user_id, dry_run, create_companies)
        import_id = create_import(db, ContactFile(path), path.name, options).id
    result = run_import(database, import_id)
    assert result is not None
    return result


def report(database: Database, import_id: int) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(report_lines(database, import_id)))))
