"""The port through which filing and drafts reach a user's mailbox.

The API never imports exchangelib (only workers/connectors/ews does): the composition root hands
`create_app` an implementation of `MailboxMessages`; without one, the operations that need a
mailbox answer 503 and uploads still work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.kit.errors import AppError, InvalidInput
from app.users.connection import MailboxConnection

FILED_CATEGORY = "Filed in CRM"


class MailboxUnavailable(AppError):
    status_code = 503


class MailboxFailure(AppError):
    """Exchange failed or refused an operation; the filing or draft did not happen."""

    status_code = 502


class ItemsNotFound(InvalidInput):
    """Item ids that are not (or no longer) in the mailbox: another user's, moved or deleted."""

    def __init__(self, mailbox: str, item_ids: Sequence[str]) -> None:
        listed = ", ".join(item_ids)
        super().__init__(f"no item {listed} in the mailbox {mailbox}")
        self.item_ids = tuple(item_ids)


@dataclass(frozen=True)
class MailboxMessage:
    item_id: str
    mime: bytes
    # The mailbox owner wrote it: its sender is the mailbox, or it lies in Sent Items.
    sent_by_owner: bool
    # Exchange's sent time: the fallback when the MIME content has no usable Date header.
    sent_at: datetime | None


@dataclass(frozen=True)
class FiledMark:
    item_id: str
    communication_id: int


@dataclass(frozen=True)
class DraftFile:
    name: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class DraftRequest:
    subject: str | None
    to: tuple[str, ...]
    body: str | None
    files: tuple[DraftFile, ...]
    # A new draft answering this item (To and Subject default to the original's).
    reply_to_item_id: str | None = None
    # Attach to this existing draft instead of creating one.
    draft_item_id: str | None = None


class MailboxMessages(Protocol):
    def fetch(self, connection: MailboxConnection, item_ids: Sequence[str]) -> list[MailboxMessage]:
        """The items with their MIME content, in the order asked; raises ItemsNotFound naming
        every id the mailbox does not hold."""
        ...

    def mark_filed(
        self, connection: MailboxConnection, marks: Sequence[FiledMark], folder_name: str | None
    ) -> None:
        """Adds the FILED_CATEGORY and the communication id to each item; then moves them to
        the folder of that name, when one is given."""
        ...

    def save_draft(self, connection: MailboxConnection, draft: DraftRequest) -> str:
        """Creates (or adds files to) a draft; returns its item id."""
        ...


class NoMailbox:
    """Used when the process was started without a connector (tests of the API alone)."""

    def _unavailable(self) -> MailboxUnavailable:
        return MailboxUnavailable(
            "no Exchange connector is configured in this process: emails can be filed only as "
            "uploaded .eml or .msg files, and drafts cannot be created"
        )

    def fetch(self, connection: MailboxConnection, item_ids: Sequence[str]) -> list[MailboxMessage]:
        raise self._unavailable()

    def mark_filed(
        self, connection: MailboxConnection, marks: Sequence[FiledMark], folder_name: str | None
    ) -> None:
        raise self._unavailable()

    def save_draft(self, connection: MailboxConnection, draft: DraftRequest) -> str:
        raise self._unavailable()
