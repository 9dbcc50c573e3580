"""Run the simulator inside a test process.

with SimulatorServer() as sim:
    config = Configuration(service_endpoint=sim.ews_url, ...)
    ...
    assert sim.stats()["requests"]["CreateItem"] == 1
"""

from __future__ import annotations

from typing import Any

from ews_simulator.authority import TOKEN_LIFETIME_SECONDS, Clients
from ews_simulator.control import Fault
from ews_simulator.http import BackgroundServer
from ews_simulator.seed import seed_mailbox
from ews_simulator.server import (
    AuthConfig,
    Observer,
    Simulator,
    SimulatorHTTPServer,
)
from ews_simulator.store import Mailbox, Store
from ews_simulator.tls import generate_identity


class SimulatorServer(BackgroundServer):
    """The simulator on a free loopback port, served from a background thread."""

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        impersonators: set[str] | None = None,
        no_auth: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        clients: dict[str, str] | None = None,
        certificates: dict[str, bytes] | None = None,
        token_lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
    ) -> None:
        """With `tls`: HTTPS, its CA in `ca_file`, and an authority for the app registrations
        (`clients`: client id → secret; `certificates`: client id → certificate PEM)."""
        registrations = Clients(secrets=dict(clients or {}))
        for client_id, pem in (certificates or {}).items():
            registrations.add_certificate(client_id, pem)
        auth = AuthConfig(
            users=dict(users or {}),
            impersonators=set(impersonators or ()),
            no_auth=no_auth,
            clients=registrations,
            token_lifetime_seconds=token_lifetime_seconds,
        )
        self.simulator = Simulator(auth)
        identity = generate_identity(host) if tls else None
        self._ews = SimulatorHTTPServer((host, port), self.simulator, identity)
        super().__init__(self._ews, identity)

    @property
    def ews_url(self) -> str:
        return self._ews.ews_url

    def authority(self, tenant: str) -> str:
        """The authority URL a client gives MSAL (with `tls`)."""
        return f"{self.url}/{tenant}"

    def tokens_issued(self) -> int:
        assert self.simulator.oauth is not None, "the authority is served with tls=True only"
        return self.simulator.oauth.authority.issued

    @property
    def store(self) -> Store:
        return self.simulator.store

    def mailbox(self, smtp: str) -> Mailbox:
        return self.simulator.store.mailbox(smtp)

    def reset(self) -> None:
        self.simulator.handle_admin("POST", "/_sim/reset", b"")

    def stats(self) -> dict[str, Any]:
        return self.simulator.stats()

    def clear_stats(self) -> None:
        self.simulator.control.clear_stats()

    def seed(self, smtp: str, **counts: int) -> dict[str, Any]:
        box = self.mailbox(smtp)
        with box.lock:
            return seed_mailbox(box, counts)

    def add_fault(
        self,
        kind: str,
        operation: str = "*",
        *,
        mailbox: str | None = None,
        count: int = 1,
        back_off_ms: int = 50,
        delay_ms: int = 1000,
    ) -> None:
        self.simulator.control.add_fault(
            Fault.from_json(
                {
                    "kind": kind,
                    "operation": operation,
                    "mailbox": mailbox,
                    "count": count,
                    "back_off_ms": back_off_ms,
                    "delay_ms": delay_ms,
                }
            )
        )

    def clear_faults(self) -> None:
        self.simulator.control.clear_faults()

    def add_observer(self, observer: Observer) -> None:
        self.simulator.observers.append(observer)


def client_account(ews_url: str, smtp: str, password: str) -> Any:
    """An exchangelib Account on a simulated mailbox, as tests, demos and benchmarks reach one
    outside crmsync (which opens its own through workers/connectors/ews)."""
    from exchangelib import DELEGATE, Account, Build, Configuration, Credentials, Version

    config = Configuration(
        service_endpoint=ews_url,
        credentials=Credentials(smtp, password),
        auth_type="basic",
        version=Version(build=Build(15, 1, 2507, 6)),
    )
    return Account(smtp, config=config, autodiscover=False, access_type=DELEGATE)
