"""The `crmsync` command's users, keys, tokens and sync subcommands."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.db import Database
from app.models.auth import ApiKey, KeyKind
from app.models.crm import User
from app.models.sync import RunStatus, SyncRun

runner = CliRunner()

ADD_JANE = [
    "users", "add", "--logon", "jane", "--mailbox", "jane@example.com",
    "--ews-url", "http://127.0.0.1:9/EWS/Exchange.asmx",
    "--username", "svc@example.com", "--password", "s3cret!", "--impersonation",
    "--first", "Jane", "--last", "Doe", "--no-check",
]  # fmt: skip


@pytest.fixture
def cli_db(database: Database, db: Session) -> Session:
    return db


def test_users_add_creates_the_crm_user_and_lists_it(cli_db: Session) -> None:
    result = runner.invoke(cli, ADD_JANE)
    assert result.exit_code == 0, result.output
    user = cli_db.scalars(select(User).where(User.user_logon == "jane")).one()
    assert (user.user_firstname, user.user_lastname) == ("Jane", "Doe")
    assert user.user_emailaddress == "jane@example.com"
    listing = runner.invoke(cli, ["users", "list"])
    assert "jane@example.com" in listing.output
    assert "s3cret" not in listing.output + result.output


def test_users_add_rejects_bad_input_with_reasons(cli_db: Session) -> None:
    arguments = ["users", "add", "--logon", "x", "--mailbox", "nope", "--ews-url", "ftp://h"]
    result = runner.invoke(cli, [*arguments, "--auth", "noauth"])
    assert result.exit_code == 2
    # The errors name the command's own flags, not the API's field paths.
    assert "--mailbox" in result.output and "--ews-url" in result.output
    assert "ews_url" not in result.output


def test_keys_and_tokens_print_the_secret_alone_on_the_last_line(cli_db: Session) -> None:
    assert runner.invoke(cli, ADD_JANE).exit_code == 0
    admin = runner.invoke(cli, ["keys", "create", "--name", "ops"])
    token = runner.invoke(cli, ["tokens", "create", "--user", "jane"])
    assert admin.exit_code == 0 and token.exit_code == 0
    admin_secret = admin.output.strip().splitlines()[-1]
    token_secret = token.output.strip().splitlines()[-1]
    assert admin_secret.startswith("csk_") and " " not in admin_secret
    assert token_secret.startswith("cst_") and " " not in token_secret
    kinds = {k.kind for k in cli_db.scalars(select(ApiKey))}
    assert kinds == {KeyKind.ADMIN, KeyKind.USER}
    assert all(admin_secret not in k.secret_sha256 for k in cli_db.scalars(select(ApiKey)))
    unknown = runner.invoke(cli, ["tokens", "create", "--user", "nobody"])
    assert unknown.exit_code == 2 and "nobody" in unknown.output


def test_sync_of_an_unknown_user_fails(cli_db: Session) -> None:
    result = runner.invoke(cli, ["sync", "--user", "ghost"])
    assert result.exit_code == 2
    assert "ghost" in result.output


def test_sync_records_a_run(cli_db: Session) -> None:
    assert runner.invoke(cli, ADD_JANE).exit_code == 0
    result = runner.invoke(cli, ["sync", "--user", "jane"])
    run = cli_db.scalars(select(SyncRun)).one()
    assert run.trigger == "cli"
    assert run.status in (RunStatus.SUCCESS, RunStatus.SUCCESS_WITH_ERRORS, RunStatus.FAILED)
    assert f"run {run.id}" in result.output
