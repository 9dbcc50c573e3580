"""Emails for filing and drafts with CRM documents, through exchangelib (the API's port
`app.filings.mailbox.MailboxMessages`).

Every operation works in bulk: one GetItem for all MIME contents of a filing, one GetItem and
one UpdateItem to mark them all, one MoveItem to file them away.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from exchangelib import Account, FileAttachment, Folder, Message, Q
from exchangelib.errors import ErrorInvalidIdMalformed, ErrorItemNotFound
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.folders import SHALLOW, FolderCollection
from exchangelib.properties import ItemId

from app.filings.mailbox import (
    FILED_CATEGORY,
    DraftRequest,
    FiledMark,
    ItemsNotFound,
    MailboxFailure,
    MailboxMessage,
)
from app.kit.errors import AppError, InvalidInput
from app.users.connection import MailboxConnection
from workers.connectors.ews.connection import classify, open_account
from workers.connectors.tag import CRMSYNC_PROPERTY_SET


class FiledCommunicationId(ExtendedProperty):  # type: ignore[misc]
    """The CRM communication a filed email became, so every client can tell it is filed."""

    property_set_id = CRMSYNC_PROPERTY_SET
    property_name = "crmsync-communication-id"
    property_type = "Integer"


FILED_FIELD = "crmsync_communication_id"
_FETCH_FIELDS = ("mime_content", "author", "parent_folder_id", "datetime_sent")
_MISSING = (ErrorItemNotFound, ErrorInvalidIdMalformed)
_REPLY_PREFIXES = ("re:", "aw:", "sv:", "antw:")


def register() -> None:
    """Registers the property on exchangelib's Message (once per process)."""
    if FILED_FIELD not in {f.name for f in Message.FIELDS}:
        Message.register(FILED_FIELD, FiledCommunicationId)


register()


@contextmanager
def _exchange(connection: MailboxConnection, doing: str) -> Iterator[None]:
    """Turns exchangelib's failures into an API error that says what failed and why."""
    try:
        yield
    except AppError:
        raise
    except Exception as exc:  # every EWS failure is reported to the caller, with its reason
        _kind, reason = classify(exc)
        raise MailboxFailure(f"{connection.mailbox}: {doing} failed: {reason}") from exc


def _fetch(
    account: Account, connection: MailboxConnection, item_ids: Sequence[str], fields: Sequence[str]
) -> list[Message]:
    results = list(
        account.fetch(ids=[ItemId(id=item_id) for item_id in item_ids], only_fields=list(fields))
    )
    missing = [i for i, r in zip(item_ids, results, strict=True) if isinstance(r, _MISSING)]
    if missing:
        raise ItemsNotFound(connection.mailbox, missing)
    for result in results:
        if isinstance(result, Exception):
            raise result
    not_emails = [i for i, r in zip(item_ids, results, strict=True) if not isinstance(r, Message)]
    if not_emails:
        raise InvalidInput(f"item {', '.join(not_emails)} is not an email")
    return results


def _address(mailbox: Any) -> str:
    return str(getattr(mailbox, "email_address", None) or "").casefold()


class ExchangeMessages:
    def fetch(self, connection: MailboxConnection, item_ids: Sequence[str]) -> list[MailboxMessage]:
        with _exchange(connection, "fetching the emails"):
            account = open_account(connection)
            items = _fetch(account, connection, item_ids, _FETCH_FIELDS)
            owner = connection.mailbox.casefold()
            # Sent Items is looked up only when some email was not written by the owner.
            sent_folder_id = (
                account.sent.id if any(_address(i.author) != owner for i in items) else None
            )
            return [
                MailboxMessage(
                    item_id=item.id,
                    mime=item.mime_content or b"",
                    sent_by_owner=_address(item.author) == owner
                    or (
                        item.parent_folder_id is not None
                        and item.parent_folder_id.id == sent_folder_id
                    ),
                    sent_at=item.datetime_sent,
                )
                for item in items
            ]

    def mark_filed(
        self, connection: MailboxConnection, marks: Sequence[FiledMark], folder_name: str | None
    ) -> None:
        if not marks:
            return
        with _exchange(connection, "marking the emails as filed"):
            account = open_account(connection)
            items = _fetch(
                account, connection, [m.item_id for m in marks], ("categories", "parent_folder_id")
            )
            for item, mark in zip(items, marks, strict=True):
                categories = list(item.categories or [])
                if FILED_CATEGORY not in categories:
                    categories.append(FILED_CATEGORY)
                item.categories = categories
                setattr(item, FILED_FIELD, mark.communication_id)
            updated = list(
                account.bulk_update([(item, ["categories", FILED_FIELD]) for item in items])
            )
            for result in updated:
                if isinstance(result, Exception):
                    raise result
            if folder_name:
                self._move(account, items, updated, folder_name)

    def _move(
        self, account: Account, items: list[Message], updated: list[Any], folder_name: str
    ) -> None:
        folder = _filing_folder(account, folder_name)
        # Exchange gives a moved item a new id; one already in the folder stays as it is.
        to_move = [
            ids
            for item, ids in zip(items, updated, strict=True)
            if item.parent_folder_id is None or item.parent_folder_id.id != folder.id
        ]
        if to_move:
            for result in account.bulk_move(ids=to_move, to_folder=folder):
                if isinstance(result, Exception):
                    raise result

    def save_draft(self, connection: MailboxConnection, draft: DraftRequest) -> str:
        with _exchange(connection, "saving the draft"):
            account = open_account(connection)
            files = [
                FileAttachment(name=f.name, content=f.content, content_type=f.content_type)
                for f in draft.files
            ]
            if draft.draft_item_id is not None:
                return _attach_to_draft(account, connection, draft.draft_item_id, files)
            message = Message(
                account=account,
                folder=account.drafts,
                subject=draft.subject or "",
                body=draft.body or "",
                to_recipients=list(draft.to) or None,
                attachments=files,
            )
            if draft.reply_to_item_id is not None:
                _address_as_reply(account, connection, message, draft)
            message.save()
            return str(message.id)


def _attach_to_draft(
    account: Account, connection: MailboxConnection, item_id: str, files: list[FileAttachment]
) -> str:
    (item,) = _fetch(account, connection, [item_id], ("is_draft", "parent_folder_id"))
    # Unsent mail in the Drafts folder is a draft too (not every server sets IsDraft on it).
    in_drafts = item.parent_folder_id is not None and item.parent_folder_id.id == account.drafts.id
    if not (item.is_draft or in_drafts):
        raise InvalidInput(f"body.draft_item_id: item {item_id} is not a draft")
    item.attach(files)
    return str(item.id)


def _address_as_reply(
    account: Account, connection: MailboxConnection, message: Message, draft: DraftRequest
) -> None:
    """Makes the draft answer the original: threading headers, and the original's sender and
    subject unless the request names others. (EWS's ReplyToItem would also quote the original;
    building the reply as a plain draft keeps it independent of that.)"""
    assert draft.reply_to_item_id is not None
    (original,) = _fetch(
        account, connection, [draft.reply_to_item_id], ("subject", "author", "message_id")
    )
    if not draft.subject:
        subject = original.subject or ""
        has_prefix = subject.casefold().startswith(_REPLY_PREFIXES)
        message.subject = subject if has_prefix else f"RE: {subject}".strip()
    if not draft.to and original.author is not None:
        message.to_recipients = [original.author.email_address]
    if original.message_id:
        message.in_reply_to = original.message_id
        message.references = original.message_id


def _filing_folder(account: Account, name: str) -> Folder:
    """The folder of that name at the top of the mailbox, created when missing."""
    root = account.msg_folder_root
    found = list(
        FolderCollection(account=account, folders=[root]).find_folders(
            q=Q(name=name), depth=SHALLOW
        )
    )
    if found:
        folder: Folder = found[0]
        return folder
    folder = Folder(parent=root, name=name)
    folder.save()
    return folder
