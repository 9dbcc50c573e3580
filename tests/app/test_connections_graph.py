"""Graph connections: `crmsync connections add --connector graph`, `connections switch`, and
the rules a Graph connection's fields follow."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.connections.schemas import ConnectionCreate
from app.db import Database
from app.models.connections import Connection, ConnectorKind
from app.models.sync import AuthType, FolderState, SyncLink, SyncUser
from app.users.service import connection_for

runner = CliRunner()
SECRET = "graph-client-secret-from-a-file"


@pytest.fixture
def cli_db(database: Database, db: Session) -> Session:
    return db


def _add_graph(tmp_path: Path, name: str = "m365", *extra: str) -> str:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    added = runner.invoke(
        cli,
        ["connections", "add", "--name", name, "--connector", "graph", "--tenant", "contoso",
         "--client-id", "app-id", "--client-secret-file", str(secret_file), *extra],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert SECRET not in added.output
    return added.output


def test_add_a_graph_connection_with_defaults(cli_db: Session, tmp_path: Path) -> None:
    output = _add_graph(tmp_path)
    assert "m365 (graph, oauth2)" in output
    row = cli_db.scalars(select(Connection)).one()
    assert (row.connector, row.auth_type, row.ews_url) == (
        ConnectorKind.GRAPH,
        AuthType.OAUTH2,
        None,
    )
    joined = runner.invoke(
        cli,
        ["users", "add", "--logon", "ann", "--mailbox", "ann@contoso.com", "--connection",
         "m365", "--first", "Ann", "--last", "Doe", "--no-check"],
    )  # fmt: skip
    assert joined.exit_code == 0, joined.output
    user = cli_db.scalars(select(SyncUser)).one()
    connection = connection_for(user)
    assert connection.graph_url == "https://graph.microsoft.com/v1.0"
    assert connection.oauth_app is not None
    assert connection.oauth_app.client_secret == SECRET
    assert connection.oauth_app.authority_url == "https://login.microsoftonline.com"
    assert SECRET not in repr(connection)


def test_graph_and_authority_urls_can_be_given(cli_db: Session, tmp_path: Path) -> None:
    _add_graph(
        tmp_path, "sovereign", "--graph-url", "https://graph.microsoft.us/v1.0",
        "--authority-url", "https://login.microsoftonline.us",
    )  # fmt: skip
    row = cli_db.scalars(select(Connection)).one()
    assert (row.graph_url, row.authority_url) == (
        "https://graph.microsoft.us/v1.0",
        "https://login.microsoftonline.us",
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"ews_url": "https://mail.contoso.com/EWS/Exchange.asmx"}, "ews_url"),
        ({"auth": "basic", "username": "svc", "password": "x"}, "auth"),
        ({"client_secret": None}, "exactly one"),
        ({"tenant": None}, "tenant"),
        ({"audience": "https://outlook.office365.com"}, "audience"),
    ],
)
def test_a_graph_connection_needs_an_app_registration_only(
    fields: dict[str, object], says: str
) -> None:
    body: dict[str, object] = {
        "name": "m365",
        "connector": "graph",
        "tenant": "contoso",
        "client_id": "app-id",
        "client_secret": "s",
        **fields,
    }
    with pytest.raises(ValidationError, match=says):
        ConnectionCreate.model_validate({k: v for k, v in body.items() if v is not None})


def test_switch_moves_users_and_forgets_their_mailbox_state(
    cli_db: Session, tmp_path: Path
) -> None:
    password = tmp_path / "password"
    password.write_text("pw")
    runner.invoke(
        cli,
        ["connections", "add", "--name", "onprem", "--ews-url",
         "https://mail.contoso.com/EWS/Exchange.asmx", "--username", "svc",
         "--password-file", str(password)],
    )  # fmt: skip
    _add_graph(tmp_path)
    for logon in ("ann", "bob"):
        runner.invoke(
            cli,
            ["users", "add", "--logon", logon, "--mailbox", f"{logon}@contoso.com",
             "--connection", "onprem", "--first", logon.title(), "--last", "Doe", "--no-check"],
        )  # fmt: skip
    ann = cli_db.scalars(select(SyncUser).where(SyncUser.mailbox == "ann@contoso.com")).one()
    cli_db.add(FolderState(user_id=ann.user_id, entity="contacts", sync_state="ews-state"))
    cli_db.add(SyncLink(user_id=ann.user_id, entity="contacts", crm_id="1", remote_id="AAMk"))
    cli_db.commit()

    switched = runner.invoke(cli, ["connections", "switch", "--name", "onprem", "--to", "m365"])
    assert switched.exit_code == 0, switched.output
    assert "2 user(s) moved from onprem to m365" in switched.output
    cli_db.expire_all()
    graph = cli_db.scalars(select(Connection).where(Connection.name == "m365")).one()
    assert {u.connection_id for u in cli_db.scalars(select(SyncUser))} == {graph.id}
    assert cli_db.scalars(select(FolderState)).all() == []
    assert cli_db.scalars(select(SyncLink)).all() == []

    same = runner.invoke(cli, ["connections", "switch", "--name", "m365", "--to", "m365"])
    assert same.exit_code != 0 and "same connection" in same.output
    unknown = runner.invoke(cli, ["connections", "switch", "--name", "m365", "--to", "nope"])
    assert unknown.exit_code != 0 and "nope" in unknown.output
