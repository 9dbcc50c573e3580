"""Run the Graph simulator inside a test process.

with GraphSimulatorServer(clients={"app": "secret"}) as sim:
    ... httpx.Client(verify=sim.ca_file) ...
    assert sim.stats()["requests"]["contacts.create"] == 1
"""

from __future__ import annotations

from typing import Any

from ews_simulator import authority as auth
from ews_simulator.http import BackgroundServer
from ews_simulator.tls import generate_identity
from graph_simulator.api import parse_fault
from graph_simulator.seed import seed_mailbox
from graph_simulator.server import GraphHTTPServer, GraphSimulator
from graph_simulator.store import Mailbox


class GraphSimulatorServer(BackgroundServer):
    """The simulator on a free loopback port over HTTPS, with its CA in a temporary file."""

    def __init__(
        self,
        *,
        users: list[str] | None = None,
        clients: dict[str, str] | None = None,
        certificates: dict[str, bytes] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        registrations = auth.Clients(secrets=dict(clients or {}))
        for client_id, pem in (certificates or {}).items():
            registrations.add_certificate(client_id, pem)
        self.simulator = GraphSimulator(users, registrations)
        identity = generate_identity(host)
        super().__init__(GraphHTTPServer((host, port), self.simulator, identity), identity)

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v1.0"

    def authority(self, tenant: str) -> str:
        return f"{self.url}/{tenant}"

    def mailbox(self, smtp: str) -> Mailbox:
        box = self.simulator.store.mailbox(smtp)
        if box is None:
            raise KeyError(smtp)
        return box

    def reset(self) -> None:
        self.simulator.api.reset()

    def stats(self) -> dict[str, Any]:
        return self.simulator.api.stats()

    def clear_stats(self) -> None:
        self.simulator.api.clear_stats()

    def seed(self, smtp: str, **counts: int) -> dict[str, int]:
        box = self.mailbox(smtp)
        with box.lock:
            return seed_mailbox(box, counts)

    def add_fault(self, kind: str, operation: str = "*", **options: Any) -> None:
        self.simulator.api.control.add_fault(
            parse_fault({"kind": kind, "operation": operation, **options})
        )

    def clear_faults(self) -> None:
        self.simulator.api.control.clear_faults()
