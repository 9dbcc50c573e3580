"""The ports of the sync core: what each side must offer a sync pass.

A pass (`sync_pass`) sees five things, each behind a port defined here, none of them a database
session or a client library:

* the **CRM side** of one entity (`CrmSide`): its changes since a watermark, items by id, and
  single-item writes that join the link store's transaction;
* one **mailbox folder** (`MailboxFolder`), whichever connector serves it (EWS today, Microsoft
  Graph next): its changes since an opaque sync state, items by id, a look-up by the CRM id
  crmsync stamps on the items it creates, and bulk writes returning one result per item;
* the **link store** (`LinkStore`): the stored pairs and the conflict log, committed together
  with the CRM writes;
* the **checkpoint** (`CheckpointStore`): where the last clean pass left off on each side;
* the **journal** (`journal.Journal`): what the pass did, in memory, for the runner to record.

The contract between them is stated in `engine` (commits per batch, conflicts before writes)
and `sync_pass` (the checkpoint advances only after a clean pass).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.kit.sync_policy import OutlookDeleteMode
from workers.sync.core.actions import (
    ConflictRecord,
    CreateInOutlook,
    DeleteInOutlook,
    UpdateOutlook,
)
from workers.sync.core.records import CrmItem, LinkState, Record, RemoteItem, Unreadable


@dataclass(frozen=True)
class CrmListing:
    """The CRM side's changes since a watermark (None: deleted, or out of the user's scope)."""

    changes: Mapping[str, CrmItem | Unreadable | None]
    complete: bool  # every live item is listed: a linked item absent from it is gone
    # Items this listing leaves out on purpose (e.g. outside a first-sync window), with why.
    left_alone: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MailboxListing:
    """A folder's changes since a sync state (None: deleted), and the state to resume from."""

    changes: Mapping[str, RemoteItem | Unreadable | None]
    sync_state: str | None  # opaque: EWS's SyncFolderItems state, Graph's delta link
    complete: bool  # the listing started from no state: it holds every item of the folder


@dataclass(frozen=True)
class RemoteCreated:
    remote_id: str
    change_key: str | None  # EWS's ChangeKey, Graph's changeKey: the version a write names


class CrmSide(Protocol):
    """One entity's CRM side. Writes join the link store's transaction.

    A row it cannot read as a record is listed or fetched as `Unreadable`, never raised: one
    poison row must not stop the others (see `records.unreadable_on_error`).
    """

    def list_changes(self, watermark: datetime | None, linked_ids: set[str]) -> CrmListing:
        """Changes since `watermark` (with an overlap); with none, every item (complete).

        Linked items that left the user's scope are listed as None.
        """

    def fetch(self, crm_ids: Sequence[str]) -> Mapping[str, CrmItem | Unreadable | None]:
        """Current items by id; None for one gone or out of scope."""

    def create(self, record: Record, replaces: str | None) -> str:
        """Create (or, given `replaces`, restore where possible) an item; return its id."""

    def update(self, crm_id: str, changes: Record) -> None: ...

    def delete(self, crm_id: str, mode: OutlookDeleteMode) -> None: ...


class MailboxFolder(Protocol):
    """One mailbox folder (contacts, calendar or tasks) as a connector presents it.

    Records use the canonical field names (app.mappings.catalog), whatever the connector's own.
    An item it cannot read as a record is listed or fetched as `Unreadable`, never raised.
    Items crmsync creates carry their CRM id (the tag) in a property the connector can search
    by, so a run that died between creating an item and storing its link never duplicates it.

    Bulk writes return one result per input item, in order: an exception for an item that
    failed (that item's error, the others go on); a write that fails as a whole may raise.

    A connector may also offer `write_group(record) -> Hashable`: writes of one group travel in
    the same batches, so a connector that spends extra requests per batch on some items (the
    occurrences of recurring series) spends them on few batches.
    """

    def list_changes(self, sync_state: str | None, bases: Mapping[str, Record]) -> MailboxListing:
        """Changes since `sync_state`; with none (or one the server no longer accepts), every
        item of the folder, marked complete.

        `bases` are the records linked items last synchronized as, by remote id: a value the
        mailbox represents more coarsely than the CRM (a task status several CRM statuses map
        to) reads as its base's where it stands for it, so it never flip-flops.
        """

    def fetch(
        self, remote_ids: Sequence[str], bases: Mapping[str, Record]
    ) -> Mapping[str, RemoteItem | Unreadable | None]:
        """Current items by id, read as in `list_changes`; None for one that no longer exists."""

    def find_by_tags(self, tags: Sequence[str]) -> Mapping[str, RemoteItem]:
        """Items carrying these CRM id tags, by tag (made by a run that died before its link)."""

    def create_many(self, items: Sequence[CreateInOutlook]) -> Sequence[RemoteCreated | Exception]:
        """Create the items, stamping each with its tag; return their ids and change keys."""

    def update_many(self, items: Sequence[UpdateOutlook]) -> Sequence[str | Exception | None]:
        """Apply the changes (and a new tag where `retag` is set); return new change keys.

        An update names the change key the plan saw; a connector that can refuses the write
        when the item changed since (the next run merges again).
        """

    def delete_many(self, items: Sequence[DeleteInOutlook]) -> Sequence[Exception | None]: ...


class LinkStore(Protocol):
    """Stored links and the conflict log, in the transaction shared with the CRM side."""

    def states(self) -> list[LinkState]:
        """Every link of this user and entity."""

    def save(self, previous: LinkState | None, current: LinkState) -> None:
        """Store `current`, replacing `previous` (whose ids may differ) if given."""

    def delete(self, link: LinkState) -> None: ...

    def record_conflicts(self, conflicts: Sequence[ConflictRecord]) -> None: ...

    def commit(self) -> None:
        """Commit the shared transaction: CRM writes, links, conflicts and checkpoint."""

    def discard(self) -> None:
        """Roll back what the shared transaction holds uncommitted."""


@dataclass(frozen=True)
class Checkpoint:
    """Where the last clean pass left off."""

    sync_state: str | None  # the mailbox folder's
    crm_watermark: datetime | None  # the CRM clock when that pass began reading
    deletions_confirmed: bool  # an administrator confirmed the deletions the guard withheld


class CheckpointStore(Protocol):
    """The checkpoint of one user and entity, in the transaction shared with the link store."""

    def load(self) -> Checkpoint: ...

    def advance(self, sync_state: str | None, crm_watermark: datetime) -> None:
        """Move past a clean pass (committed with the links); spends a deletion confirmation."""


@dataclass(frozen=True)
class ItemIds:
    crm_ids: frozenset[str] = frozenset()
    remote_ids: frozenset[str] = frozenset()

    def __contains__(self, link: object) -> bool:
        return isinstance(link, LinkState) and (
            link.crm_id in self.crm_ids or link.remote_id in self.remote_ids
        )

    def __or__(self, other: ItemIds) -> ItemIds:
        return ItemIds(self.crm_ids | other.crm_ids, self.remote_ids | other.remote_ids)


@dataclass(frozen=True)
class PendingFailures:
    """Items that failed to read before, by what the pass does with them."""

    due: ItemIds = ItemIds()  # their next attempt is due: the pass reads them again
    waiting: ItemIds = ItemIds()  # backing off: left out, and not counted again if listed
    held: ItemIds = ItemIds()  # failed too often: left alone until an administrator retries

    @property
    def left_out(self) -> ItemIds:
        return self.waiting | self.held


class ItemFailures(Protocol):
    """Items of one user and entity that failed to read, retried with back-off, then held for
    an administrator; in the transaction shared with the link store."""

    def pending(self) -> PendingFailures: ...

    def failed(
        self, reason: str, *, crm_id: str | None = None, remote_id: str | None = None
    ) -> bool:
        """Count a failure and schedule the next attempt; True once the item is held."""

    def recovered(self, read: ItemIds) -> None:
        """Forget the failures of items that were read this time."""


class NoItemFailures:
    """Item failures kept nowhere: every failed item is read again when next listed."""

    def pending(self) -> PendingFailures:
        return PendingFailures()

    def failed(
        self, reason: str, *, crm_id: str | None = None, remote_id: str | None = None
    ) -> bool:
        return False

    def recovered(self, read: ItemIds) -> None:
        return None
