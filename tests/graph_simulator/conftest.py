"""A session-wide Graph simulator over HTTPS, reset before each test, reached through MSAL and
httpx exactly as a production client reaches Microsoft Graph (the simulator's CA trusted, no
verification switched off)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import msal
import pytest

from graph_simulator.testing import GraphSimulatorServer
from tests.graph_simulator.csdl import assert_valid
from workers.connectors.graph.msal_http import MsalHttpClient

OWNER = "owner@example.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "s3cret-value"
TENANT = "contoso.onmicrosoft.com"


@pytest.fixture(scope="session")
def graph_sim() -> Iterator[GraphSimulatorServer]:
    with GraphSimulatorServer(users=[OWNER], clients={CLIENT_ID: CLIENT_SECRET}) as sim:
        yield sim


@pytest.fixture
def sim(graph_sim: GraphSimulatorServer) -> GraphSimulatorServer:
    graph_sim.reset()
    graph_sim.mailbox(OWNER)
    return graph_sim


def trust(sim: GraphSimulatorServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sim.ca_file))


def msal_app(sim: GraphSimulatorServer, credential: Any) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential=credential,
        authority=sim.authority(TENANT),
        instance_discovery=False,
        http_client=MsalHttpClient(httpx.Client(verify=trust(sim), timeout=30)),
    )


def acquire(app: msal.ConfidentialClientApplication) -> dict[str, Any]:
    return app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])


@pytest.fixture(scope="session")
def token(graph_sim: GraphSimulatorServer) -> str:
    result = acquire(msal_app(graph_sim, CLIENT_SECRET))
    assert "access_token" in result, result
    return str(result["access_token"])


class Graph:
    """httpx against the simulator, validating every JSON body against the Graph metadata."""

    def __init__(self, sim: GraphSimulatorServer, token: str) -> None:
        self.client = httpx.Client(
            base_url=sim.graph_url,
            verify=trust(sim),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        self.user = f"/users/{OWNER}"

    def request(
        self, method: str, path: str, entity: str | None = None, **kw: Any
    ) -> httpx.Response:
        url = path if path.startswith("http") else self.user + path
        response = self.client.request(method, url, **kw)
        if entity is not None and response.is_success and response.content:
            body = response.json()
            for value in body.get("value", [body]):
                if "@removed" not in value:
                    assert_valid(value, entity)
        return response

    def delta_round(
        self, url: str, entity: str, headers: dict[str, str] | None = None, **first: Any
    ) -> tuple[list[dict[str, Any]], str, int]:
        """All pages of a delta round: the values, the deltaLink and the number of pages.

        Query options go with the first request only; the links carry them on."""
        values: list[dict[str, Any]] = []
        pages = 0
        while True:
            response = self.request("GET", url, entity, headers=headers, **first)
            first = {}
            assert response.status_code == 200, response.text
            body = response.json()
            pages += 1
            values.extend(body["value"])
            if "@odata.deltaLink" in body:
                return values, body["@odata.deltaLink"], pages
            url = body["@odata.nextLink"]


@pytest.fixture
def graph(sim: GraphSimulatorServer, token: str) -> Iterator[Graph]:
    client = Graph(sim, token)
    yield client
    client.client.close()
