"""A session-wide simulator, reset before each test, whose every EWS exchange is schema-checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from exchangelib import DELEGATE, IMPERSONATION, Account, Build, Configuration, Credentials, Version
from lxml import etree

from ews_simulator.testing import SimulatorServer
from ews_simulator.xml import Element

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ews-schema"
OWNER = "owner@example.com"
SERVICE = "svc@example.com"
PASSWORD = "secret"


@pytest.fixture(scope="session")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "ews-messages.xsd")))


# exchangelib 5.6 puts RootItemId attributes on the AttachmentId of GetAttachment requests and a
# Traversal attribute on FindPeople, which the schema forbids; Exchange tolerates both and so
# does the simulator. Only these are excused.
KNOWN_CLIENT_DEVIATIONS = (
    "attribute 'RootItemId': The attribute",
    "attribute 'RootItemChangeKey'",
    "FindPeople', attribute 'Traversal'",
)


class SchemaRecorder:
    """Validates every request the simulator receives and every response body it sends."""

    def __init__(self, schema: etree.XMLSchema) -> None:
        self.schema = schema
        self.errors: list[str] = []

    def __call__(self, operation: str, request: Element, response: Element) -> None:
        for direction, el in (("request", request), ("response", response)):
            # Validate a standalone copy so the document context matches what travels on the wire.
            doc = etree.fromstring(etree.tostring(el))
            if self.schema.validate(doc):
                continue
            problems = [str(e) for e in self.schema.error_log]
            if direction == "request":
                problems = [p for p in problems if not any(k in p for k in KNOWN_CLIENT_DEVIATIONS)]
            self.errors.extend(f"{operation} {direction}: {p}" for p in problems)


@pytest.fixture(scope="session")
def recorder(schema: etree.XMLSchema) -> SchemaRecorder:
    return SchemaRecorder(schema)


@pytest.fixture(scope="session")
def sim_server(recorder: SchemaRecorder) -> Iterator[SimulatorServer]:
    with SimulatorServer(impersonators={SERVICE}) as server:
        server.add_observer(recorder)
        yield server


@pytest.fixture
def sim(sim_server: SimulatorServer, recorder: SchemaRecorder) -> Iterator[SimulatorServer]:
    sim_server.reset()
    recorder.errors.clear()
    yield sim_server
    assert not recorder.errors, "\n".join(recorder.errors)


def make_config(
    sim: SimulatorServer, user: str = OWNER, auth_type: str | None = None, **kwargs: object
) -> Configuration:
    return Configuration(
        service_endpoint=sim.ews_url,
        credentials=Credentials(user, PASSWORD),
        auth_type=auth_type or "basic",
        version=Version(build=Build(15, 1, 2507, 6)),
        **kwargs,
    )


@pytest.fixture
def account(sim: SimulatorServer) -> Account:
    return Account(OWNER, config=make_config(sim), autodiscover=False, access_type=DELEGATE)


@pytest.fixture
def impersonating_account(sim: SimulatorServer) -> Account:
    config = make_config(sim, user=SERVICE)
    return Account(OWNER, config=config, autodiscover=False, access_type=IMPERSONATION)
