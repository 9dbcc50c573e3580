"""`crmsync import contacts FILE`: progress, counts, the report file, dry runs and flags."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.crm.flags import flagged_person_ids
from app.db import Database
from app.models.crm import Person
from tests.factories.imports import FIXTURES, crm_user

runner = CliRunner()


@pytest.fixture
def cli_db(database: Database, db: Session) -> Session:
    return db


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return Path(shutil.copy(FIXTURES / "outlook_utf8_bom.csv", tmp_path / "export.csv"))


def _persons(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Person)) or 0


def test_import_flags_for_the_user_and_writes_the_report_beside_the_file(
    cli_db: Session, export: Path
) -> None:
    user_id = crm_user(cli_db, logon="jane")
    cli_db.commit()
    result = runner.invoke(cli, ["import", "contacts", str(export), "--user", "jane"])
    assert result.exit_code == 0, result.output
    assert "6 rows (4 imported, 2 invalid)" in result.output
    assert "note: columns ignored: E-mail Display Name, Notes" in result.output
    report = export.with_name("export.csv.report.csv")
    assert f"report: {report}" in result.output
    with report.open(encoding="utf-8") as lines:
        rows = list(csv.DictReader(lines))
    assert [row["outcome"] for row in rows].count("imported") == 4
    assert len(flagged_person_ids(cli_db, user_id)) == 4

    again = runner.invoke(cli, ["import", "contacts", str(export), "--user", "jane"])
    assert "6 rows (4 duplicate, 2 invalid)" in again.output
    assert _persons(cli_db) == 4


def test_dry_run_writes_nothing_and_reports_where_asked(
    cli_db: Session, export: Path, tmp_path: Path
) -> None:
    target = tmp_path / "what-if.csv"
    result = runner.invoke(
        cli,
        [
            "import",
            "contacts",
            str(export),
            "--dry-run",
            "--create-companies",
            "--report",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "(2 invalid, 4 new)" in result.output
    assert target.read_text(encoding="utf-8").startswith(
        '"row","outcome","reason","person_id","contact"'
    )
    assert _persons(cli_db) == 0


def test_unreadable_files_and_unknown_users_exit_non_zero(
    cli_db: Session, export: Path, tmp_path: Path
) -> None:
    missing = runner.invoke(cli, ["import", "contacts", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.output
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    assert runner.invoke(cli, ["import", "contacts", str(binary)]).exit_code == 2
    ghost = runner.invoke(cli, ["import", "contacts", str(export), "--user", "ghost"])
    assert ghost.exit_code == 2
    assert "ghost" in ghost.output
