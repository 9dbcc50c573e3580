"""End to end: CRM rows in PostgreSQL, the sync engine, exchangelib over HTTP, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from exchangelib import Account
from lxml import etree
from sqlalchemy.orm import Session

from app.config import get_settings
from app.connections import service as connections_service
from app.connections.schemas import ConnectionCreate
from app.db import Database
from app.users import service as users_service
from app.users.schemas import SyncUserCreate
from ews_simulator.testing import SimulatorServer, client_account
from graph_simulator.store import Mailbox as SimulatedMailbox
from graph_simulator.testing import GraphSimulatorServer
from tests.ews_simulator.conftest import SCHEMA_DIR, SchemaRecorder
from tests.factories.users import sync_user
from workers.sync.runner import RunRequest, run_user_sync


@pytest.fixture(scope="session")
def schema_recorder() -> SchemaRecorder:
    return SchemaRecorder(etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "ews-messages.xsd"))))


@pytest.fixture(scope="session")
def simulator_server(schema_recorder: SchemaRecorder) -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        server.add_observer(schema_recorder)
        yield server


@pytest.fixture
def simulator(
    simulator_server: SimulatorServer, schema_recorder: SchemaRecorder
) -> Iterator[SimulatorServer]:
    simulator_server.reset()
    schema_recorder.errors.clear()
    yield simulator_server
    assert not schema_recorder.errors, "\n".join(schema_recorder.errors)


@dataclass
class Mailbox:
    """A CRM user enabled for sync, and an Outlook-like view of their mailbox."""

    user_id: int
    smtp: str
    outlook: Account
    db: Session


@pytest.fixture
def mailbox(database: Database, db: Session, simulator: SimulatorServer) -> Mailbox:
    smtp = "jane@example.com"
    user_id = sync_user(
        db,
        logon="jane",
        mailbox=smtp,
        ews_url=simulator.ews_url,
        auth={"type": "basic", "username": smtp, "password": "secret"},
    )
    db.commit()
    outlook = client_account(simulator.ews_url, smtp, "secret")
    return Mailbox(user_id=user_id, smtp=smtp, outlook=outlook, db=db)


# --- Microsoft Graph: CRM rows in PostgreSQL, the sync runner, the Graph connector (MSAL and
# httpx over HTTPS, the simulator's CA trusted through CRMSYNC_CA_BUNDLE), the Graph simulator.
GRAPH_SMTP = "jane@example.com"
CLIENT_ID, CLIENT_SECRET = "crmsync-e2e", "e2e-secret"


@pytest.fixture(scope="session")
def graph_server() -> Iterator[GraphSimulatorServer]:
    with GraphSimulatorServer(users=[GRAPH_SMTP], clients={CLIENT_ID: CLIENT_SECRET}) as sim:
        yield sim


@dataclass
class GraphUser:
    user_id: int
    sim: GraphSimulatorServer
    db: Session

    @property
    def box(self) -> SimulatedMailbox:
        return self.sim.mailbox(GRAPH_SMTP)

    def contacts(self) -> list[dict[str, Any]]:
        return [item.data for item in self.box.contacts.items.values()]

    def sync(self) -> Any:
        run = run_user_sync(RunRequest(user_id=self.user_id, trigger="test"))
        self.db.expire_all()
        return run


@pytest.fixture
def graph_user(
    database: Database,
    db: Session,
    graph_server: GraphSimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> GraphUser:
    graph_server.reset()
    monkeypatch.setattr(get_settings(), "ca_bundle", graph_server.ca_file)
    connections_service.create_connection(
        db,
        ConnectionCreate.model_validate(
            {
                "name": "m365",
                "connector": "graph",
                "tenant": "contoso.onmicrosoft.com",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "graph_url": graph_server.graph_url,
                "authority_url": graph_server.url,
            }
        ),
    )
    body = SyncUserCreate.model_validate(
        {
            "logon": "jane",
            "first_name": "Jane",
            "last_name": "Doe",
            "mailbox": GRAPH_SMTP,
            "connection": "m365",
        }
    )
    user_id = users_service.create_sync_user(db, body).user_id
    db.commit()
    return GraphUser(user_id, graph_server, db)
