"""In-memory fakes of the sync core's ports, and a world that runs the production `sync_pass`.

The CRM, the link store and the checkpoint share one transaction (`FakeDatabase`): writes are
staged in `working` and reach `committed` on commit; a simulated crash throws the staging away.
Exchange writes are immediate, as in real life.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from workers.sync.core.engine import ExecutionResult, RemoteCreated
from workers.sync.core.journal import Journal
from workers.sync.core.planner import (
    ConflictRecord,
    CreateInOutlook,
    CrmItem,
    DeleteInOutlook,
    EntityPolicy,
    LinkState,
    OutlookDeleteMode,
    Plan,
    Record,
    RemoteItem,
    UpdateOutlook,
    Value,
)
from workers.sync.core.ports import Checkpoint, CrmListing, MailboxListing
from workers.sync.core.sync_pass import PassResult, sync_pass

EPOCH = datetime(2024, 1, 1, 9, 0)


class Crash(BaseException):
    """The process dies: nothing after this point runs, the open transaction is lost."""


class SideError(Exception):
    """An adapter's per-item failure (network, throttling, a locked row...)."""


@dataclass
class Faults:
    """Decides, operation by operation, whether a side fails or the process dies."""

    rng: random.Random = field(default_factory=lambda: random.Random(0))
    fail_rate: float = 0.0
    crash_after: int | None = None
    operations: int = 0

    def tick(self, what: str) -> None:
        self.operations += 1
        if self.crash_after is not None and self.operations > self.crash_after:
            raise Crash(what)
        if self.fail_rate and self.rng.random() < self.fail_rate:
            raise SideError(f"injected failure: {what}")


@dataclass
class Clock:
    ticks: int = 0

    def now(self) -> datetime:
        self.ticks += 1
        return EPOCH + timedelta(minutes=self.ticks)


@dataclass
class CrmRow:
    record: dict[str, Value]
    modified: datetime
    live: bool  # False: deleted, or unflagged for this user
    seq: int


@dataclass(frozen=True)
class Overwrite:
    """A write sync made over existing values (checked against the conflict log)."""

    side: str
    item_id: str
    before: Record
    after: Record | None  # None: deleted


@dataclass
class DbState:
    rows: dict[str, CrmRow] = field(default_factory=dict)
    links: dict[str, LinkState] = field(default_factory=dict)  # by crm_id
    conflicts: list[ConflictRecord] = field(default_factory=list)
    overwrites: list[Overwrite] = field(default_factory=list)
    seq: int = 0
    next_id: int = 0
    # The checkpoint
    crm_mark: datetime | None = None
    exchange_state: str | None = None

    def copy(self) -> DbState:
        # Links and conflicts are immutable; only rows need copying (deepcopy is far slower).
        rows = {i: replace(row, record=dict(row.record)) for i, row in self.rows.items()}
        return DbState(
            rows,
            dict(self.links),
            list(self.conflicts),
            list(self.overwrites),
            self.seq,
            self.next_id,
            self.crm_mark,
            self.exchange_state,
        )


class FakeDatabase:
    def __init__(self) -> None:
        self.committed = DbState()
        self.working = DbState()

    def commit(self) -> None:
        self.committed = self.working.copy()

    def discard(self) -> None:
        self.working = self.committed.copy()


class FakeCrm:
    """The CRM side (CrmSide) plus what users do in the CRM between runs."""

    def __init__(self, db: FakeDatabase, clock: Clock, faults: Faults) -> None:
        self.db = db
        self.clock = clock
        self.faults = faults

    def _touch(self, row: CrmRow) -> None:
        self.db.working.seq += 1
        row.seq = self.db.working.seq
        row.modified = self.clock.now()

    # CrmSide
    def create(self, record: Record, replaces: str | None) -> str:
        self.faults.tick("crm create")
        return self._insert_or_restore(record, replaces)

    def _insert_or_restore(self, record: Record, replaces: str | None) -> str:
        state = self.db.working
        if replaces is not None and replaces in state.rows:
            row = state.rows[replaces]
            row.record, row.live = dict(record), True
            self._touch(row)
            return replaces
        state.next_id += 1
        crm_id = f"c{state.next_id}"
        state.rows[crm_id] = CrmRow(dict(record), EPOCH, True, 0)
        self._touch(state.rows[crm_id])
        return crm_id

    def update(self, crm_id: str, changes: Record) -> None:
        self.faults.tick("crm update")
        row = self._live(crm_id)
        before = dict(row.record)
        row.record.update(changes)
        self._touch(row)
        self.db.working.overwrites.append(Overwrite("crm", crm_id, before, dict(row.record)))

    def delete(self, crm_id: str, mode: OutlookDeleteMode) -> None:
        self.faults.tick(f"crm {mode}")
        row = self._live(crm_id)
        row.live = False
        self._touch(row)
        self.db.working.overwrites.append(Overwrite("crm", crm_id, dict(row.record), None))

    def _live(self, crm_id: str) -> CrmRow:
        row = self.db.working.rows.get(crm_id)
        if row is None or not row.live:
            raise SideError(f"CRM item {crm_id} not found")
        return row

    # Users, between runs (nothing is staged then, so they commit at once)
    def user_create(self, *records: Record) -> list[str]:
        crm_ids = [self._insert_or_restore(record, None) for record in records]
        self.db.commit()
        return crm_ids

    def user_edit(self, crm_id: str, changes: Record) -> None:
        row = self.db.working.rows[crm_id]
        row.record.update(changes)
        self._touch(row)
        self.db.commit()

    def user_set_live(self, crm_id: str, live: bool) -> None:
        row = self.db.working.rows[crm_id]
        row.live = live
        self._touch(row)
        self.db.commit()

    # CrmSide: reads
    def list_changes(self, watermark: datetime | None, linked_ids: set[str]) -> CrmListing:
        changes, _ = self.listing(watermark)
        return CrmListing(changes, complete=watermark is None)

    def fetch(self, crm_ids: Sequence[str]) -> dict[str, CrmItem | None]:
        return {crm_id: self.item(crm_id) for crm_id in crm_ids}

    # Listings
    def live_ids(self) -> list[str]:
        return sorted(i for i, row in self.db.committed.rows.items() if row.live)

    def item(self, crm_id: str) -> CrmItem | None:
        row = self.db.committed.rows.get(crm_id)
        if row is None or not row.live:
            return None
        return CrmItem(crm_id, dict(row.record), row.modified)

    def listing(
        self, since: datetime | None, overlap: timedelta = timedelta(minutes=2)
    ) -> tuple[dict[str, CrmItem | None], datetime]:
        """Changes since a watermark (with overlap, like the real one), or all live items."""
        rows = self.db.committed.rows
        if since is None:
            ids = self.live_ids()
        else:
            ids = sorted(i for i, row in rows.items() if row.modified > since - overlap)
        return {i: self.item(i) for i in ids}, self.clock.now()


@dataclass
class ExItem:
    record: dict[str, Value]
    change_key: str
    tag: str | None
    modified: datetime
    live: bool
    seq: int


class FakeExchange:
    """The Exchange side (RemoteSide): ChangeKeys, tags, a change log, request counting."""

    def __init__(self, clock: Clock, faults: Faults) -> None:
        self.clock = clock
        self.faults = faults
        self.items: dict[str, ExItem] = {}
        self.seq = 0
        self.next_id = 0
        self.requests = 0
        self.overwrites: list[Overwrite] = []

    def _touch(self, item: ExItem) -> None:
        self.seq += 1
        item.seq = self.seq
        item.change_key = f"ck{self.seq}"
        item.modified = self.clock.now()

    def _new(self, record: Record, tag: str | None) -> str:
        self.next_id += 1
        remote_id = f"r{self.next_id}"
        self.items[remote_id] = ExItem(dict(record), "", tag, EPOCH, True, 0)
        self._touch(self.items[remote_id])
        return remote_id

    def _remote_item(self, remote_id: str) -> RemoteItem:
        item = self.items[remote_id]
        return RemoteItem(remote_id, item.change_key, dict(item.record), item.modified, item.tag)

    # MailboxFolder
    def list_changes(self, sync_state: str | None, bases: Mapping[str, Record]) -> MailboxListing:
        changes, state = self.listing(None if sync_state is None else int(sync_state))
        return MailboxListing(changes, str(state), complete=sync_state is None)

    def fetch(
        self, remote_ids: Sequence[str], bases: Mapping[str, Record]
    ) -> dict[str, RemoteItem | None]:
        return {remote_id: self.item(remote_id) for remote_id in remote_ids}

    def find_by_tags(self, tags: Sequence[str]) -> Mapping[str, RemoteItem]:
        self.requests += 1
        self.faults.tick("find by tags")
        found: dict[str, RemoteItem] = {}
        for remote_id, item in sorted(self.items.items()):
            if item.live and item.tag is not None and item.tag in tags and item.tag not in found:
                found[item.tag] = self._remote_item(remote_id)
        return found

    def create_many(self, items: Sequence[CreateInOutlook]) -> list[RemoteCreated | Exception]:
        self.requests += 1
        results: list[RemoteCreated | Exception] = []
        for write in items:
            try:
                self.faults.tick("exchange create")
            except SideError as error:
                results.append(error)
                continue
            remote_id = self._new(write.record, write.tag)
            results.append(RemoteCreated(remote_id, self.items[remote_id].change_key))
        return results

    def update_many(self, items: Sequence[UpdateOutlook]) -> list[str | Exception | None]:
        self.requests += 1
        results: list[str | Exception | None] = []
        for write in items:
            try:
                self.faults.tick("exchange update")
                item = self._live(write.remote_id)
                if write.change_key is not None and write.change_key != item.change_key:
                    raise SideError("ErrorIrresolvableConflict: the item changed meanwhile")
            except SideError as error:
                results.append(error)
                continue
            before = dict(item.record)
            item.record.update(write.changes)
            item.tag = write.retag or item.tag
            self._touch(item)
            self.overwrites.append(Overwrite("outlook", write.remote_id, before, dict(item.record)))
            results.append(item.change_key)
        return results

    def delete_many(self, items: Sequence[DeleteInOutlook]) -> list[Exception | None]:
        self.requests += 1
        results: list[Exception | None] = []
        for write in items:
            try:
                self.faults.tick("exchange delete")
                item = self._live(write.remote_id)
            except SideError as error:
                results.append(error)
                continue
            item.live = False
            self._touch(item)
            self.overwrites.append(Overwrite("outlook", write.remote_id, dict(item.record), None))
            results.append(None)
        return results

    def _live(self, remote_id: str) -> ExItem:
        item = self.items.get(remote_id)
        if item is None or not item.live:
            raise SideError(f"ErrorItemNotFound: {remote_id}")
        return item

    # Users
    def user_create(self, record: Record) -> str:
        return self._new(record, None)

    def user_edit(self, remote_id: str, changes: Record) -> None:
        self.items[remote_id].record.update(changes)
        self._touch(self.items[remote_id])

    def user_delete(self, remote_id: str) -> None:
        self.items[remote_id].live = False
        self._touch(self.items[remote_id])

    # Listings
    def live_ids(self) -> list[str]:
        return sorted(i for i, item in self.items.items() if item.live)

    def item(self, remote_id: str) -> RemoteItem | None:
        item = self.items.get(remote_id)
        return self._remote_item(remote_id) if item is not None and item.live else None

    def listing(self, since: int | None) -> tuple[dict[str, RemoteItem | None], int]:
        """SyncFolderItems: changes since a sync state, or (no state) every live item."""
        if since is None:
            ids = self.live_ids()
        else:
            ids = sorted(i for i, item in self.items.items() if item.seq > since)
        return {i: self.item(i) for i in ids}, self.seq


class FakeLinkStore:
    """The link store (LinkStore), in the transaction shared with FakeCrm."""

    def __init__(self, db: FakeDatabase, faults: Faults) -> None:
        self.db = db
        self.faults = faults

    def states(self) -> list[LinkState]:
        return list(self.db.working.links.values())

    def save(self, previous: LinkState | None, current: LinkState) -> None:
        links = self.db.working.links
        if previous is not None:
            del links[previous.crm_id]
        assert current.crm_id not in links, f"second link for {current.crm_id}"
        links[current.crm_id] = current

    def delete(self, link: LinkState) -> None:
        del self.db.working.links[link.crm_id]

    def record_conflicts(self, conflicts: Sequence[ConflictRecord]) -> None:
        self.db.working.conflicts.extend(conflicts)

    def commit(self) -> None:
        self.faults.tick("commit")
        self.db.commit()

    def discard(self) -> None:
        self.db.discard()


@dataclass
class FakeCheckpoint:
    """The checkpoint (CheckpointStore), in the transaction shared with FakeCrm.

    The world sets what the next pass starts from: a full listing of a side (as after a lost
    state) and an administrator's confirmation of withheld deletions.
    """

    db: FakeDatabase
    crm_full: bool = False
    exchange_full: bool = False
    deletions_confirmed: bool = False

    def load(self) -> Checkpoint:
        state = self.db.working
        return Checkpoint(
            None if self.exchange_full else state.exchange_state,
            None if self.crm_full else state.crm_mark,
            self.deletions_confirmed,
        )

    def advance(self, sync_state: str | None, crm_watermark: datetime) -> None:
        self.db.working.exchange_state = sync_state
        self.db.working.crm_mark = crm_watermark


class AllChangesTakePart:
    """The entity rules (EntityRules) of a world: its policy; no item is left alone."""

    def __init__(self, policy: EntityPolicy) -> None:
        self.base_policy = policy

    def policy(self, *, deletions_confirmed: bool) -> EntityPolicy:
        return replace(self.base_policy, deletions_confirmed=deletions_confirmed)

    def left_alone(self, item: RemoteItem, first_sync: bool) -> str | None:
        return None


@dataclass
class RunOutcome:
    plan: Plan | None  # None: the process crashed before the plan was made
    result: ExecutionResult | None  # None: the process crashed
    links_before: dict[str, LinkState]
    overwrites: list[Overwrite]


class World:
    """Both sides, the link store and the checkpoint of one user/entity, synchronized by the
    production `sync_pass`."""

    def __init__(self, policy: EntityPolicy, seed: int = 0) -> None:
        self.policy = policy
        self.clock = Clock()
        self.faults = Faults(random.Random(seed))
        self.db = FakeDatabase()
        self.crm = FakeCrm(self.db, self.clock, self.faults)
        self.exchange = FakeExchange(self.clock, self.faults)
        self.store = FakeLinkStore(self.db, self.faults)
        self.checkpoint = FakeCheckpoint(self.db)

    @property
    def links(self) -> dict[str, LinkState]:
        return self.db.committed.links

    @property
    def crm_mark(self) -> datetime | None:
        return self.db.committed.crm_mark

    @property
    def exchange_state(self) -> str | None:
        return self.db.committed.exchange_state

    def reset_state(self) -> None:
        """Lose every link and sync state (e.g. a restored database): the next run matches."""
        self.db.working.links.clear()
        self.db.working.crm_mark = self.db.working.exchange_state = None
        self.db.commit()

    def run(
        self,
        *,
        crm_full: bool = False,
        exchange_full: bool = False,
        confirm_deletions: bool = False,
        fail_rate: float = 0.0,
        crash_after: int | None = None,
    ) -> RunOutcome:
        """One pass; a crash, or a failure past the executor (the last commit), loses it."""
        links = dict(self.links)
        self.checkpoint.crm_full, self.checkpoint.exchange_full = crm_full, exchange_full
        self.checkpoint.deletions_confirmed = confirm_deletions
        self.faults.fail_rate, self.faults.crash_after, self.faults.operations = (
            fail_rate,
            crash_after,
            0,
        )
        exchange_writes = len(self.exchange.overwrites)
        self.db.working.overwrites.clear()
        self.db.committed.overwrites.clear()
        result: PassResult | None = None
        try:
            result = sync_pass(
                crm=self.crm,
                mailbox=self.exchange,
                links=self.store,
                checkpoint=self.checkpoint,
                entity=AllChangesTakePart(self.policy),
                journal=Journal(),
                crm_clock=self.clock.now,
            )
        except (Crash, SideError):
            self.db.discard()
        finally:
            self.faults.fail_rate, self.faults.crash_after = 0.0, None
        overwrites = self.db.committed.overwrites + self.exchange.overwrites[exchange_writes:]
        if result is None:
            return RunOutcome(None, None, links, overwrites)
        return RunOutcome(result.plan, result.execution, links, overwrites)
