"""`crmsync connections …` and `crmsync users add --connection`: secrets only from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.db import Database
from app.models.connections import Connection
from app.models.sync import SyncUser
from app.users import service as users_service
from tests.factories.certificates import app_certificate

runner = CliRunner()
PASSWORD = "svc-pa55word-from-a-file"


@pytest.fixture
def cli_db(database: Database, db: Session) -> Session:
    return db


def test_add_list_and_join_a_basic_connection(cli_db: Session, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    added = runner.invoke(
        cli,
        [
            "connections", "add", "--name", "onprem", "--connector", "ews",
            "--ews-url", "https://mail.contoso.com/EWS/Exchange.asmx", "--auth", "ntlm",
            "--username", "CONTOSO\\svc", "--password-file", str(password_file),
            "--impersonation",
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    for logon in ("ann", "bob"):
        joined = runner.invoke(
            cli,
            ["users", "add", "--logon", logon, "--mailbox", f"{logon}@contoso.com",
             "--connection", "onprem", "--first", logon.title(), "--last", "Doe", "--no-check"],
        )  # fmt: skip
        assert joined.exit_code == 0, joined.output
    listing = runner.invoke(cli, ["connections", "list"])
    assert listing.exit_code == 0
    assert (
        "onprem\tews\tntlm\thttps://mail.contoso.com/EWS/Exchange.asmx\t2 users" in listing.output
    )
    assert PASSWORD not in added.output + listing.output
    row = cli_db.scalars(select(Connection)).one()
    assert row.impersonation and row.username == "CONTOSO\\svc"
    users = cli_db.scalars(select(SyncUser)).all()
    assert {u.connection_id for u in users} == {row.id}
    assert all(u.secret_encrypted is None for u in users)


def test_oauth2_with_a_certificate_from_a_file(cli_db: Session, tmp_path: Path) -> None:
    certificate_file = tmp_path / "app.pem"
    certificate_file.write_text(app_certificate())
    added = runner.invoke(
        cli,
        [
            "connections", "add", "--name", "exo", "--connector", "ews",
            "--ews-url", "https://outlook.office365.com/EWS/Exchange.asmx", "--auth", "oauth2",
            "--tenant", "contoso.onmicrosoft.com", "--client-id", "app-id",
            "--client-certificate-file", str(certificate_file), "--impersonation",
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert cli_db.scalars(select(Connection)).one().certificate_encrypted is not None


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--password-file", "/nonexistent/pw"], "--password-file: cannot read"),
        (["--auth", "oauth2"], "auth oauth2 needs"),
        ([], "password: auth basic needs"),
    ],
)
def test_bad_input_says_what_is_wrong(cli_db: Session, extra: list[str], says: str) -> None:
    result = runner.invoke(
        cli,
        ["connections", "add", "--name", "x", "--ews-url", "https://h/EWS/Exchange.asmx",
         "--username", "svc", *extra],
    )  # fmt: skip
    assert result.exit_code == 2
    assert says in result.output
    assert cli_db.scalars(select(Connection)).all() == []


def test_users_add_names_an_unknown_connection(cli_db: Session) -> None:
    result = runner.invoke(
        cli, ["users", "add", "--logon", "x", "--mailbox", "x@contoso.com", "--connection", "no"]
    )
    assert result.exit_code == 2
    assert "no connection named 'no'" in result.output


def test_test_reports_a_connection_it_cannot_reach(cli_db: Session, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    runner.invoke(
        cli,
        ["connections", "add", "--name", "dead", "--ews-url", "http://127.0.0.1:9/EWS/Exchange.asmx",
         "--username", "svc@contoso.com", "--password-file", str(password_file)],
    )  # fmt: skip
    result = runner.invoke(cli, ["connections", "test", "--name", "dead"])
    assert result.exit_code == 1
    assert "failed: svc@contoso.com: cannot reach the EWS endpoint" in result.output
    missing = runner.invoke(cli, ["connections", "test", "--name", "nope"])
    assert missing.exit_code == 2
    assert "no connection named 'nope'" in missing.output


def test_users_add_reads_its_own_password_from_a_file(cli_db: Session, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    added = runner.invoke(
        cli,
        ["users", "add", "--logon", "cy", "--mailbox", "cy@contoso.com",
         "--ews-url", "https://mail.contoso.com/EWS/Exchange.asmx", "--username", "cy@contoso.com",
         "--password-file", str(password_file), "--no-check"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    user = cli_db.scalars(select(SyncUser)).one()
    assert users_service.connection_for(user).secret == PASSWORD
