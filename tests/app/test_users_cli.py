"""`crmsync users`: adding without the password in the arguments, checking the connection,
the table of `list`, and disable, enable and remove."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from app.cli import cli
from app.db import Database
from app.kit.crypto import default_secret_box
from app.models.crm import Person, User
from app.models.sync import FolderState, SyncLink, SyncUser
from ews_simulator.testing import SimulatorServer
from tests.factories.crm import person

runner = CliRunner()
MAILBOX = "known@example.com"
PASSWORD = "right horse"


@pytest.fixture
def cli_db(database: Database, db: Session) -> Session:
    return db


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(users={MAILBOX: PASSWORD}) as server:
        yield server


def _add(ews_url: str, *extra: str, logon: str = "kim", **kwargs: Any) -> Result:
    arguments = ["users", "add", "--logon", logon, "--mailbox", MAILBOX, "--ews-url", ews_url]
    return runner.invoke(cli, [*arguments, "--username", MAILBOX, *extra], **kwargs)


def _stored_password(db: Session, logon: str = "kim") -> str:
    user = db.scalars(select(User).where(User.user_logon == logon)).one()
    sync_user = db.get(SyncUser, user.user_userid)
    assert sync_user is not None and sync_user.secret_encrypted is not None
    return default_secret_box().decrypt(sync_user.secret_encrypted)


def test_the_password_comes_from_a_file(
    cli_db: Session, simulator: SimulatorServer, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    result = _add(simulator.ews_url, "--password-file", str(secret))
    assert result.exit_code == 0, result.output
    assert _stored_password(cli_db) == PASSWORD


def test_the_password_comes_from_the_environment(
    cli_db: Session, simulator: SimulatorServer
) -> None:
    result = _add(simulator.ews_url, env={"CRMSYNC_MAILBOX_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert _stored_password(cli_db) == PASSWORD


def test_the_password_is_asked_for_hidden_when_interactive(
    cli_db: Session, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.cli.users._interactive", lambda: True)
    result = _add(simulator.ews_url, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert _stored_password(cli_db) == PASSWORD


def test_without_a_password_the_error_says_where_to_give_it(cli_db: Session) -> None:
    result = _add("http://127.0.0.1:9/EWS/Exchange.asmx", "--no-check")
    assert result.exit_code == 2
    assert "--password-file" in result.output
    assert "CRMSYNC_MAILBOX_PASSWORD" in result.output
    assert cli_db.scalars(select(SyncUser)).all() == []


def test_a_connection_that_fails_saves_nothing_unless_no_check(
    cli_db: Session, simulator: SimulatorServer
) -> None:
    env = {"CRMSYNC_MAILBOX_PASSWORD": "wrong"}
    refused = _add(simulator.ews_url, env=env)
    assert refused.exit_code == 2
    assert "credentials" in refused.output and "--no-check" in refused.output
    assert cli_db.scalars(select(SyncUser)).all() == []
    unchecked = _add(simulator.ews_url, "--no-check", env=env)
    assert unchecked.exit_code == 0, unchecked.output


def test_list_is_a_table_with_status_and_next_sync(cli_db: Session) -> None:
    env = {"CRMSYNC_MAILBOX_PASSWORD": "x"}
    assert _add("http://127.0.0.1:9/EWS/Exchange.asmx", "--no-check", env=env).exit_code == 0
    assert runner.invoke(cli, ["users", "disable", "--logon", "kim"]).exit_code == 0
    listing = runner.invoke(cli, ["users", "list"])
    assert listing.exit_code == 0, listing.output
    header, row = listing.output.strip().splitlines()
    assert header.split() == [
        *("ID", "LOGON", "MAILBOX", "STATUS", "NEXT", "SYNC"),
        *("CONNECTION", "OR", "EWS", "URL"),
    ]
    assert "kim" in row and MAILBOX in row and "disabled" in row
    assert runner.invoke(cli, ["users", "enable", "--logon", "kim"]).exit_code == 0
    row = runner.invoke(cli, ["users", "list"]).output.strip().splitlines()[1]
    assert "never" in row and "due" in row


def test_disable_enable_and_remove(cli_db: Session) -> None:
    env = {"CRMSYNC_MAILBOX_PASSWORD": "x"}
    assert _add("http://127.0.0.1:9/EWS/Exchange.asmx", "--no-check", env=env).exit_code == 0
    crm_user = cli_db.scalars(select(User).where(User.user_logon == "kim")).one()
    user_id = crm_user.user_userid
    person_id = person(cli_db, flagged_for=user_id, pers_lastname="Kept")
    cli_db.add(SyncLink(user_id=user_id, entity="contacts", crm_id=str(person_id), remote_id="r1"))
    cli_db.add(FolderState(user_id=user_id, entity="contacts", deletions_confirmed=False))
    cli_db.commit()

    assert runner.invoke(cli, ["users", "disable", "--logon", "kim"]).exit_code == 0
    cli_db.expire_all()
    assert cli_db.get(SyncUser, user_id).enabled is False  # type: ignore[union-attr]
    assert cli_db.scalars(select(SyncLink)).all() != []  # disabling keeps the links
    assert runner.invoke(cli, ["users", "enable", "--logon", "kim"]).exit_code == 0
    cli_db.expire_all()
    assert cli_db.get(SyncUser, user_id).enabled is True  # type: ignore[union-attr]

    asked = runner.invoke(cli, ["users", "remove", "--logon", "kim"], input="n\n")
    assert asked.exit_code == 1 and cli_db.get(SyncUser, user_id) is not None
    removed = runner.invoke(cli, ["users", "remove", "--logon", "kim", "--yes"])
    assert removed.exit_code == 0, removed.output
    assert "1 links" in removed.output
    cli_db.expire_all()
    assert cli_db.get(SyncUser, user_id) is None
    assert cli_db.scalars(select(SyncLink)).all() == []
    assert cli_db.scalars(select(FolderState)).all() == []
    # The CRM keeps its user and its records.
    assert cli_db.get(User, user_id) is not None
    assert cli_db.get(Person, person_id) is not None
    unknown = runner.invoke(cli, ["users", "disable", "--logon", "kim"])
    assert unknown.exit_code == 2 and "not a CRM user enabled for sync" in unknown.output


def test_sync_progress_bars_follow_each_entity() -> None:
    from rich.console import Console
    from rich.progress import Progress

    from app.cli.sync import ProgressBars

    with Progress(console=Console(file=io.StringIO()), disable=True) as progress:
        bars = ProgressBars(progress)
        bars({"contacts": {"phase": "listing", "listed": 0, "planned": 0, "applied": 0}})
        bars({"contacts": {"phase": "applying", "listed": 120, "planned": 80, "applied": 30}})
        bars(
            {
                "contacts": {"phase": "done", "listed": 120, "planned": 80, "applied": 80},
                "tasks": {"phase": "done", "listed": 0, "planned": 0, "applied": 0},
            }
        )
        contacts, tasks = progress.tasks
    assert (contacts.completed, contacts.total) == (80, 80)
    assert "contacts: done, 120 changes listed" in contacts.description
    assert tasks.finished  # an entity with nothing to do shows as complete
