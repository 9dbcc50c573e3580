"""Test-connection for any connection: Graph's probe for Graph connections, EWS's otherwise."""

from __future__ import annotations

from app.users.connection import MailboxConnection, ProbeResult
from workers.connectors.ews.connection import ExchangeProbe
from workers.connectors.graph.mailbox import GraphProbe


class ConnectorProbe:
    def test_connection(self, connection: MailboxConnection) -> ProbeResult:
        probe = GraphProbe() if connection.graph_url is not None else ExchangeProbe()
        return probe.test_connection(connection)
