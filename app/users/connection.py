"""What it takes to reach a user's mailbox, and the port through which the API probes it.

The API never imports exchangelib (only workers/connectors/ews does); the composition root hands
`create_app` an implementation of `MailboxProbe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.models.sync import AuthType


@dataclass(frozen=True)
class OAuthApp:
    """An app registration's client credentials, for app-only OAuth2 (client credentials grant).

    Exactly one of `client_secret` and `client_certificate` (PEM: certificate and private key).
    """

    tenant: str
    client_id: str
    client_secret: str | None = field(repr=False)
    client_certificate: str | None = field(repr=False)
    authority_url: str
    # The resource the token is for (its `aud`); the scope asked is `{audience}/.default`.
    audience: str


@dataclass(frozen=True)
class MailboxConnection:
    """Everything it takes to reach one mailbox.

    With `auth_type` oauth2, `oauth_app` holds a connection's app registration; without it,
    `secret` is a user's static access token (refreshed by whoever issued it, not by crmsync).
    """

    mailbox: str
    ews_url: str | None  # None for a Graph connection
    auth_type: AuthType
    username: str | None
    secret: str | None = field(repr=False)
    impersonation: bool
    timeout_seconds: int = 60
    oauth_app: OAuthApp | None = None
    # Graph connections: the Graph endpoint (…/v1.0); the mailbox is reached through it.
    graph_url: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


class MailboxProbe(Protocol):
    def test_connection(self, connection: MailboxConnection) -> ProbeResult: ...


class NoProbe:
    """Used when the process was started without a connector (tests of the API alone)."""

    def test_connection(self, connection: MailboxConnection) -> ProbeResult:
        return ProbeResult(ok=False, detail="no Exchange connector is configured in this process")
