"""A mailbox reached through Microsoft Graph: the folders a sync reads and writes, and a probe.

Contacts and tasks (Microsoft To Do) are served over Graph so far; the runner leaves the other
entities of a Graph user out of the run, saying so in its log.
"""

from __future__ import annotations

from app.config import get_settings
from app.users.connection import MailboxConnection, ProbeResult
from workers.connectors.graph.client import GraphClient, GraphConnection, GraphError
from workers.connectors.graph.contacts import GraphContactCodec
from workers.connectors.graph.folder import GraphFolder
from workers.connectors.graph.tasks import GraphTaskCodec

GRAPH_ENTITIES = frozenset({"contacts", "tasks"})


def graph_connection(connection: MailboxConnection) -> GraphConnection:
    app = connection.oauth_app
    assert app is not None and connection.graph_url is not None  # a Graph connection's shape
    ca_bundle = get_settings().ca_bundle
    return GraphConnection(
        tenant=app.tenant,
        client_id=app.client_id,
        client_secret=app.client_secret,
        client_certificate_pem=app.client_certificate,
        graph_url=connection.graph_url,
        authority_url=app.authority_url,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        timeout_seconds=connection.timeout_seconds,
    )


class GraphMailbox:
    entities = GRAPH_ENTITIES

    def __init__(self, connection: MailboxConnection) -> None:
        self.smtp = connection.mailbox
        self.client = GraphClient(graph_connection(connection))

    def _user(self) -> str:
        return f"/users/{self.smtp}"

    def contacts(self, fields: tuple[str, ...]) -> GraphFolder:
        """The default contacts folder."""
        return GraphFolder(self.client, f"{self._user()}/contacts", GraphContactCodec(fields))

    def tasks(self, codec: GraphTaskCodec) -> GraphFolder:
        """The default To Do list (Outlook's Tasks folder)."""
        lists = self.client.get_json(
            f"{self._user()}/todo/lists",
            params={"$filter": "wellknownListName eq 'defaultList'"},
        )
        default = next(iter(lists.get("value", [])), None)
        if default is None:
            raise GraphError(404, "ErrorItemNotFound", f"{self.smtp} has no default To Do list")
        return GraphFolder(self.client, f"{self._user()}/todo/lists/{default['id']}/tasks", codec)

    def close(self) -> None:
        self.client.close()


class GraphProbe:
    """Answers test-connection for Graph connections: a token, then one read of the mailbox."""

    def test_connection(self, connection: MailboxConnection) -> ProbeResult:
        mailbox = None
        try:
            mailbox = GraphMailbox(connection)
            mailbox.client.get_json(f"/users/{connection.mailbox}/contacts", params={"$top": "1"})
        except GraphError as exc:
            return ProbeResult(ok=False, detail=f"{connection.mailbox}: {exc}")
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the admin
            return ProbeResult(
                ok=False, detail=f"{connection.mailbox}: {type(exc).__name__}: {exc}"
            )
        finally:
            if mailbox is not None:
                mailbox.close()
        return ProbeResult(ok=True, detail=f"connected to {connection.mailbox} through Graph")
