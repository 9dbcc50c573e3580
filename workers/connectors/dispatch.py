"""The API's mailbox ports for any connection: Graph's adapter for Graph connections, EWS's
otherwise (the composition root hands these to create_app)."""

from __future__ import annotations

from collections.abc import Sequence

from app.filings.mailbox import DraftRequest, FiledMark, MailboxMessage, MailboxMessages
from app.users.connection import MailboxConnection, MailboxProbe, ProbeResult
from workers.connectors.ews.connection import ExchangeProbe
from workers.connectors.ews.messages import ExchangeMessages
from workers.connectors.graph.mailbox import GraphProbe
from workers.connectors.graph.messages import GraphMessages


class ConnectorProbe:
    def test_connection(self, connection: MailboxConnection) -> ProbeResult:
        probe: MailboxProbe = GraphProbe() if connection.graph_url is not None else ExchangeProbe()
        return probe.test_connection(connection)


class ConnectorMessages:
    def _for(self, connection: MailboxConnection) -> MailboxMessages:
        return GraphMessages() if connection.graph_url is not None else ExchangeMessages()

    def fetch(self, connection: MailboxConnection, item_ids: Sequence[str]) -> list[MailboxMessage]:
        return self._for(connection).fetch(connection, item_ids)

    def mark_filed(
        self, connection: MailboxConnection, marks: Sequence[FiledMark], folder_name: str | None
    ) -> None:
        self._for(connection).mark_filed(connection, marks, folder_name)

    def save_draft(self, connection: MailboxConnection, draft: DraftRequest) -> str:
        return self._for(connection).save_draft(connection, draft)
