"""End to end: CRM rows in PostgreSQL, the sync engine, exchangelib over HTTP, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from exchangelib import DELEGATE, Account, Build, Configuration, Credentials, Version
from lxml import etree
from sqlalchemy.orm import Session

from app.db import Database
from ews_simulator.testing import SimulatorServer
from tests.ews_simulator.conftest import SCHEMA_DIR, SchemaRecorder
from tests.factories.users import sync_user


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
    config = Configuration(
        service_endpoint=simulator.ews_url,
        credentials=Credentials(smtp, "secret"),
        auth_type="basic",
        version=Version(build=Build(15, 1, 2507, 6)),
    )
    outlook = Account(smtp, config=config, autodiscover=False, access_type=DELEGATE)
    return Mailbox(user_id=user_id, smtp=smtp, outlook=outlook, db=db)
