"""One Exchange folder as the sync engine's remote side, through exchangelib in bulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from exchangelib import Account
from exchangelib.errors import ErrorInvalidSyncStateData, ErrorItemNotFound
from exchangelib.items import ALL_OCCURRENCES, MOVE_TO_DELETED_ITEMS, SEND_TO_NONE
from exchangelib.services import SyncFolderItems

from app.kit.chunks import chunked
from workers.connectors.ews.properties import TAG_FIELD
from workers.sync.core.actions import CreateInOutlook, DeleteInOutlook, UpdateOutlook
from workers.sync.core.ports import MailboxListing, RemoteCreated
from workers.sync.core.records import (
    Record,
    RemoteItem,
    Unreadable,
    Value,
    unreadable_on_error,
)

# Exchange's cap for one SyncFolderItems page, and a comfortable bulk size for the rest.
SYNC_PAGE_SIZE = 512
BULK_SIZE = 100


class ItemCodec(Protocol):
    """Maps one kind of exchangelib item to and from canonical records."""

    @property
    def only_fields(self) -> list[str]: ...

    def to_record(self, item: Any) -> dict[str, Value]: ...

    def tag_of(self, item: Any) -> str | None: ...

    def new_item(self, record: Record, tag: str, account: Any, folder: Any) -> Any: ...

    def changed_item(
        self, item_id: str, change_key: str | None, full: Record, changed: Sequence[str]
    ) -> tuple[Any, list[str]]: ...


def as_utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return datetime(*value.utctimetuple()[:6], tzinfo=UTC)


class FolderGateway:
    """One EWS folder: the sync core's MailboxFolder port (workers.sync.core.ports)."""

    def __init__(self, account: Account, folder: Any, codec: ItemCodec) -> None:
        self.account = account
        self.folder = folder
        self.codec = codec

    def _remote_item(self, item: Any, base: Record) -> RemoteItem:
        """The item as a record; `base` is what it last synchronized as (empty: unlinked)."""
        record = self.codec.to_record(item)
        return RemoteItem(
            remote_id=item.id,
            change_key=item.changekey,
            record=record,
            modified=as_utc(item.last_modified_time),
            tag=self.codec.tag_of(item),
        )

    def list_changes(self, sync_state: str | None, bases: Mapping[str, Record]) -> MailboxListing:
        """Changes since `sync_state`; an invalid state falls back to the whole folder."""
        try:
            return self._sync(sync_state, bases)
        except ErrorInvalidSyncStateData:
            if sync_state is None:
                raise
            return self._sync(None, bases)

    def _sync(self, sync_state: str | None, bases: Mapping[str, Record]) -> MailboxListing:
        changes: dict[str, RemoteItem | Unreadable | None] = {}
        self.folder.item_sync_state = None
        stream = self.folder.sync_items(
            sync_state=sync_state,
            only_fields=self.codec.only_fields,
            max_changes_returned=SYNC_PAGE_SIZE,
        )
        for change_type, item in stream:
            if change_type in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE):
                read = partial(self._remote_item, item, bases.get(item.id, {}))
                changes[item.id] = unreadable_on_error(read)
            elif change_type == SyncFolderItems.DELETE:
                changes[item.id] = None
        return MailboxListing(changes, self.folder.item_sync_state, complete=sync_state is None)

    def fetch(
        self, remote_ids: Sequence[str], bases: Mapping[str, Record]
    ) -> dict[str, RemoteItem | Unreadable | None]:
        """Current items by id; None for one that no longer exists."""
        fetched: dict[str, RemoteItem | Unreadable | None] = {}
        results = self.account.fetch(
            ids=[(remote_id, None) for remote_id in remote_ids],
            folder=self.folder,
            only_fields=self.codec.only_fields,
            chunk_size=BULK_SIZE,
        )
        for remote_id, result in zip(remote_ids, results, strict=True):
            if isinstance(result, ErrorItemNotFound):
                fetched[remote_id] = None
            elif isinstance(result, Exception):
                fetched[remote_id] = Unreadable(f"Exchange could not read it: {result}")
            else:
                read = partial(self._remote_item, result, bases.get(remote_id, {}))
                fetched[remote_id] = unreadable_on_error(read)
        return fetched

    def find_by_tags(self, tags: Sequence[str]) -> Mapping[str, RemoteItem]:
        found: dict[str, RemoteItem] = {}
        for chunk in chunked(tags, BULK_SIZE):
            query = self.folder.filter(**{f"{TAG_FIELD}__in": list(chunk)})
            for item in query.only(*self.codec.only_fields):
                remote = self._remote_item(item, {})
                if remote.tag is not None:
                    found.setdefault(remote.tag, remote)
        return found

    def create_many(self, items: Sequence[CreateInOutlook]) -> Sequence[RemoteCreated | Exception]:
        built = [self.codec.new_item(i.record, i.tag, self.account, self.folder) for i in items]
        results = self.account.bulk_create(
            folder=self.folder,
            items=built,
            send_meeting_invitations=SEND_TO_NONE,
            chunk_size=BULK_SIZE,
        )
        return [
            result if isinstance(result, Exception) else RemoteCreated(result.id, result.changekey)
            for result in results
        ]

    def update_many(self, items: Sequence[UpdateOutlook]) -> Sequence[str | Exception | None]:
        pairs = []
        for item in items:
            changed, fieldnames = self.codec.changed_item(
                item.remote_id, item.change_key, item.full_record, list(item.changes)
            )
            if item.retag is not None:
                # The planner matched an item carrying another CRM item's tag: it is this one's.
                setattr(changed, TAG_FIELD, item.retag)
                fieldnames.append(TAG_FIELD)
            pairs.append((changed, fieldnames))
        results = self.account.bulk_update(
            items=pairs,
            send_meeting_invitations_or_cancellations=SEND_TO_NONE,
            chunk_size=BULK_SIZE,
        )
        return [result if isinstance(result, Exception) else result[1] for result in results]

    def delete_many(self, items: Sequence[DeleteInOutlook]) -> Sequence[Exception | None]:
        results = self.account.bulk_delete(
            ids=[(item.remote_id, None) for item in items],
            delete_type=MOVE_TO_DELETED_ITEMS,
            send_meeting_cancellations=SEND_TO_NONE,
            affected_task_occurrences=ALL_OCCURRENCES,
            chunk_size=BULK_SIZE,
        )
        return [result if isinstance(result, Exception) else None for result in results]
