"""Run the Graph simulator inside a test process.

with GraphSimulatorServer(clients={"app": "secret"}) as sim:
    ... httpx.Client(verify=sim.ca_file) ...
    assert sim.stats()["requests"]["contacts.create"] == 1
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from ews_simulator import authority as auth
from ews_simulator.tls import generate_identity
from graph_simulator.api import parse_fault
from graph_simulator.seed import seed_mailbox
from graph_simulator.server import GraphHTTPServer, GraphSimulator, serve_in_thread
from graph_simulator.store import Mailbox


class GraphSimulatorServer:
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
        self._folder = tempfile.TemporaryDirectory(prefix="graph-sim-")
        self.ca_file = Path(self._folder.name) / "ca.pem"
        self.ca_file.write_bytes(identity.ca_pem)
        self._http = GraphHTTPServer((host, port), self.simulator, identity)
        self._thread: threading.Thread | None = None

    def start(self) -> GraphSimulatorServer:
        if self._thread is None:
            self._thread = serve_in_thread(self._http)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()
        self._folder.cleanup()

    def __enter__(self) -> GraphSimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._http.url

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
