"""One mailbox collection over Microsoft Graph as the sync core's mailbox folder port.

* Changes come from delta queries: the sync state is the round's `@odata.deltaLink`. A state
  Graph no longer accepts (410 syncStateNotFound, or any 4xx on the link) falls back to a full
  round, marked complete: the planner then matches by remote id and CRM id, so nothing is
  duplicated.
* Reads and writes of several items travel in `$batch` requests of 20 (client.batch); each
  member's failure is that item's error.
* crmsync's CRM id (the tag) is read and written through the codec: a single-value extended
  property on contacts and events (the same property EWS uses), a linked resource on To Do
  tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol
from urllib.parse import quote

from workers.connectors.graph.client import BatchRequest, GraphClient, GraphError
from workers.sync.core.actions import CreateInOutlook, DeleteInOutlook, UpdateOutlook
from workers.sync.core.ports import MailboxListing, RemoteCreated
from workers.sync.core.records import (
    Record,
    RemoteItem,
    Unreadable,
    Value,
    unreadable_on_error,
)

DELTA_PAGE_SIZE = 200


class GraphCodec(Protocol):
    """Maps one kind of Graph item to and from canonical records."""

    @property
    def query(self) -> dict[str, str]:
        """The $select/$expand every read of an item uses."""

    def to_record(self, item: Mapping[str, Any], base: Record) -> dict[str, Value]:
        """The item as a record; `base` is what it last synchronized as (empty: unlinked)."""

    def tag_of(self, item: Mapping[str, Any]) -> str | None: ...

    def tag_filter(self, tag: str) -> str | None:
        """A $filter finding the items carrying this tag; None: the collection is scanned."""

    def new_body(self, record: Record, tag: str) -> dict[str, Any]: ...

    def changed_body(
        self, full: Record, changed: Sequence[str], retag: str | None
    ) -> dict[str, Any]: ...


def modified_of(item: Mapping[str, Any]) -> datetime:
    raw = item.get("lastModifiedDateTime")
    if not isinstance(raw, str):
        return datetime.min.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(microsecond=0)


class GraphFolder:
    """A collection such as /users/{mailbox}/contacts: the core's MailboxFolder port."""

    def __init__(
        self,
        client: GraphClient,
        collection: str,
        codec: GraphCodec,
        *,
        delta_path: str | None = None,
        delta_query: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.codec = codec
        self.delta_path = delta_path or f"{collection}/delta"
        self.delta_query = dict(delta_query or {})

    def _remote_item(self, item: Mapping[str, Any], base: Record | None = None) -> RemoteItem:
        return RemoteItem(
            remote_id=str(item["id"]),
            change_key=item.get("changeKey") or item.get("@odata.etag"),
            record=self.codec.to_record(item, base or {}),
            modified=modified_of(item),
            tag=self.codec.tag_of(item),
        )

    def list_changes(
        self, sync_state: str | None, bases: Mapping[str, Record] | None = None
    ) -> MailboxListing:
        """Changes since the delta link `sync_state`; with none or an expired one, every item."""
        bases = bases or {}
        if sync_state is not None:
            try:
                return self._round(sync_state, {}, bases, complete=False)
            except GraphError as e:
                if not 400 <= e.status < 500 or e.status in (401, 403, 429):
                    raise
                # 410 syncStateNotFound (or a link Graph no longer reads): start over.
        query = {**self.codec.query, **self.delta_query}
        return self._round(self.delta_path, query, bases, complete=True)

    def _round(
        self, url: str, params: dict[str, str], bases: Mapping[str, Record], *, complete: bool
    ) -> MailboxListing:
        changes: dict[str, RemoteItem | Unreadable | None] = {}
        headers = {"Prefer": f"odata.maxpagesize={DELTA_PAGE_SIZE}"}
        delta_link: str | None = None
        for page in self.client.pages(url, params=params or None, headers=headers):
            for item in page.get("value", []):
                if "@removed" in item:
                    changes[str(item["id"])] = None
                else:
                    read = partial(self._remote_item, item, bases.get(str(item["id"])))
                    changes[str(item["id"])] = unreadable_on_error(read)
            delta_link = page.get("@odata.deltaLink", delta_link)
        return MailboxListing(changes, delta_link, complete)

    def _item_url(self, remote_id: str) -> str:
        return f"{self.collection}/{quote(remote_id, safe='')}"

    def _with_query(self, url: str, query: Mapping[str, str]) -> str:
        if not query:
            return url
        encoded = "&".join(f"{k}={quote(v, safe=',()=')}" for k, v in query.items())
        return f"{url}?{encoded}"

    def fetch(
        self, remote_ids: Sequence[str], bases: Mapping[str, Record] | None = None
    ) -> dict[str, RemoteItem | None]:
        """Current items by id; None for one that no longer exists."""
        answers = self.client.batch(
            [
                BatchRequest("GET", self._with_query(self._item_url(i), self.codec.query))
                for i in remote_ids
            ]
        )
        fetched: dict[str, RemoteItem | None] = {}
        for remote_id, answer in zip(remote_ids, answers, strict=True):
            if answer.status == 404:
                fetched[remote_id] = None
            elif not answer.ok:
                raise answer.error()
            else:
                fetched[remote_id] = self._remote_item(answer.body, (bases or {}).get(remote_id))
        return fetched

    def find_by_tags(self, tags: Sequence[str]) -> dict[str, RemoteItem]:
        filters = [self.codec.tag_filter(t) for t in tags]
        if None in filters:
            return self._scan_for_tags(set(tags))
        requests = [
            BatchRequest(
                "GET", self._with_query(self.collection, {**self.codec.query, "$filter": f})
            )
            for f in filters
            if f is not None
        ]
        found: dict[str, RemoteItem] = {}
        for answer in self.client.batch(requests):
            if not answer.ok:
                raise answer.error()
            for item in answer.body.get("value", []):
                remote = self._remote_item(item)
                if remote.tag is not None:
                    found.setdefault(remote.tag, remote)
        return found

    def _scan_for_tags(self, tags: set[str]) -> dict[str, RemoteItem]:
        found: dict[str, RemoteItem] = {}
        for page in self.client.pages(self.collection, params=self.codec.query):
            for item in page.get("value", []):
                remote = self._remote_item(item)
                if remote.tag in tags:
                    found.setdefault(remote.tag, remote)
        return found

    def create_many(self, items: Sequence[CreateInOutlook]) -> list[RemoteCreated | Exception]:
        answers = self.client.batch(
            [
                BatchRequest("POST", self.collection, self.codec.new_body(i.record, i.tag))
                for i in items
            ]
        )
        created: list[RemoteCreated | Exception] = []
        for answer in answers:
            if answer.ok:
                remote = self._remote_item(answer.body)
                created.append(RemoteCreated(remote.remote_id, remote.change_key))
            else:
                created.append(answer.error())
        return created

    def update_many(self, items: Sequence[UpdateOutlook]) -> list[str | Exception | None]:
        requests = []
        for item in items:
            body = self.codec.changed_body(item.full_record, list(item.changes), item.retag)
            requests.append(BatchRequest("PATCH", self._item_url(item.remote_id), body))
        updated: list[str | Exception | None] = []
        for answer in self.client.batch(requests):
            if answer.ok:
                updated.append(self._remote_item(answer.body).change_key)
            else:
                updated.append(answer.error())
        return updated

    def delete_many(self, items: Sequence[DeleteInOutlook]) -> list[Exception | None]:
        answers = self.client.batch(
            [BatchRequest("DELETE", self._item_url(i.remote_id)) for i in items]
        )
        # An item already gone is what a delete wants.
        return [None if a.ok or a.status == 404 else a.error() for a in answers]
