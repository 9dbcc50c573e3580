"""The Graph connector against the Graph simulator over HTTPS, through MSAL and httpx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph_simulator.testing import GraphSimulatorServer
from workers.connectors.graph.client import GraphClient, GraphConnection

MAILBOX = "owner@example.com"
CLIENT_ID = "crmsync-app"
CLIENT_SECRET = "app-secret"
TENANT = "contoso.onmicrosoft.com"


@pytest.fixture(scope="session")
def graph_server() -> Iterator[GraphSimulatorServer]:
    with GraphSimulatorServer(users=[MAILBOX], clients={CLIENT_ID: CLIENT_SECRET}) as sim:
        yield sim


@pytest.fixture
def sim(graph_server: GraphSimulatorServer) -> GraphSimulatorServer:
    graph_server.reset()
    graph_server.mailbox(MAILBOX)
    return graph_server


def connection_to(sim: GraphSimulatorServer) -> GraphConnection:
    return GraphConnection(
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        graph_url=sim.graph_url,
        authority_url=sim.url,
        ca_bundle=str(sim.ca_file),
    )


class SleepRecorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(sim: GraphSimulatorServer, sleeps: SleepRecorder) -> Iterator[GraphClient]:
    graph = GraphClient(connection_to(sim), sleep=sleeps)
    yield graph
    graph.close()
