"""What it takes to reach a user's mailbox, and the port through which the API probes it.

The API never imports exchangelib (only workers/connectors/ews does); the composition root hands
`create_app` an implementation of `MailboxProbe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.models.sync import AuthType


@dataclass(frozen=True)
class MailboxConnection:
    mailbox: str
    ews_url: str
    auth_type: AuthType
    username: str | None
    secret: str | None = field(repr=False)
    impersonation: bool
    timeout_seconds: int = 60


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
