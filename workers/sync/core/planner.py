"""The sync planner: stored link states compared with both sides' changes yield actions.

Pure: no I/O, no clock, deterministic for the same inputs (vdirsyncer's design). The planner
knows nothing about CRM tables or Exchange; it sees canonical records (`records.Record`) made by
the entity mappers, and a per-entity `EntityPolicy`.

Reading a plan: every action concerns one pair (or one unpaired item) and carries the link state
to store once its writes succeed (`Reconcile.settled_link`), so a failed write never advances the
stored state past what both sides really hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeAlias

from app.kit.sync_policy import ConflictPolicy, Direction, OutlookDeleteMode
from workers.sync.core.records import Record, Value, is_empty, record_hash

__all__ = [
    "Action",
    "Applied",
    "ConflictPolicy",
    "ConflictRecord",
    "CreateInCrm",
    "CreateInOutlook",
    "CrmItem",
    "CrmWrite",
    "Decider",
    "DeleteInCrm",
    "DeleteInOutlook",
    "Direction",
    "EntityPolicy",
    "GuardReport",
    "Hold",
    "ItemsToFetch",
    "LinkState",
    "OutlookDeleteMode",
    "Plan",
    "Reconcile",
    "Record",
    "RemoteItem",
    "RemoteWrite",
    "Remove",
    "Side",
    "Skip",
    "UpdateCrm",
    "UpdateOutlook",
    "Value",
    "items_to_fetch",
    "plan_sync",
    "record_hash",
]


class Side(StrEnum):
    CRM = "crm"
    OUTLOOK = "outlook"


class Applied(StrEnum):
    """Whose value a conflict ended with."""

    CRM = "crm"
    OUTLOOK = "outlook"
    PENDING = "pending"
    NOTHING = "nothing"  # held for review: both sides keep their values


class Decider(StrEnum):
    """What decided a conflict: the entity's policy, a one-way direction, or an administrator."""

    CRM_WINS = "crm_wins"
    OUTLOOK_WINS = "outlook_wins"
    MOST_RECENT = "most_recent"
    REVIEW = "review"
    DIRECTION = "direction"
    ADMIN = "admin"
    # An Outlook item an interrupted run had created for a CRM item was adopted (and brought to
    # the CRM's values) or, its CRM item being gone, removed.
    RECOVERY = "recovery"


@dataclass(frozen=True)
class LinkState:
    """A synchronized pair as stored between runs."""

    crm_id: str
    remote_id: str
    change_key: str | None
    base: Record  # values last synchronized to both sides: the base of the three-way merge
    pending: Record = field(default_factory=dict)  # admin-chosen values, written to both sides
    held: bool = False  # an unresolved review conflict: left untouched until resolved


@dataclass(frozen=True)
class CrmItem:
    crm_id: str
    record: Record
    modified: datetime


@dataclass(frozen=True)
class RemoteItem:
    remote_id: str
    change_key: str | None
    record: Record
    modified: datetime
    tag: str | None = None  # the crm_id crmsync stamped on an item it created


MatchKeys: TypeAlias = Callable[[Record], Sequence[Hashable | None]]


@dataclass(frozen=True)
class EntityPolicy:
    direction: Direction
    conflict_policy: ConflictPolicy
    on_outlook_delete: OutlookDeleteMode
    # First-sync matching keys in priority order; None where an item has no such key.
    match_keys: MatchKeys
    mass_delete_threshold: float = 0.5
    mass_delete_minimum: int = 10
    deletions_confirmed: bool = False
    # Fields that flow one way only; the others follow `direction`.
    field_directions: Mapping[str, Direction] = field(default_factory=dict)

    def direction_of(self, name: str) -> Direction:
        return self.field_directions.get(name, self.direction)


@dataclass(frozen=True)
class ConflictRecord:
    """One field both sides disagreed on, with the values before sync (nothing lost silently)."""

    crm_id: str | None
    remote_id: str | None
    field: str
    crm_value: Value
    outlook_value: Value
    base_value: Value
    applied: Applied
    decided_by: Decider
    deleted_side: Side | None = None  # set when the conflict is a deletion against an edit


# The writes, one per side and pair. Executors batch them by type.
@dataclass(frozen=True)
class CreateInOutlook:
    record: Record
    tag: str  # the crm_id, stamped so an interrupted run never creates the item twice


@dataclass(frozen=True)
class UpdateOutlook:
    remote_id: str
    change_key: str | None
    changes: Record
    # Re-stamp the item's tag: it named another CRM item (a stale tag would pair it wrongly
    # after a state reset).
    retag: str | None = None


@dataclass(frozen=True)
class DeleteInOutlook:
    remote_id: str


@dataclass(frozen=True)
class CreateInCrm:
    record: Record
    replaces: str | None = None  # a CRM item that went away: the adapter may restore it instead


@dataclass(frozen=True)
class UpdateCrm:
    crm_id: str
    changes: Record


@dataclass(frozen=True)
class DeleteInCrm:
    crm_id: str
    mode: OutlookDeleteMode


RemoteWrite: TypeAlias = CreateInOutlook | UpdateOutlook | DeleteInOutlook
CrmWrite: TypeAlias = CreateInCrm | UpdateCrm | DeleteInCrm


@dataclass(frozen=True)
class Reconcile:
    """Bring a pair to `target`: at most one write per side, then store the link.

    Covers creating a counterpart, linking a matched pair, updating either or both sides and
    refreshing the base when both sides already agree.
    """

    link: LinkState | None  # as stored; None for a pair first seen in this run
    crm_id: str | None  # None while the CRM item is still to be created
    remote_id: str | None
    change_key: str | None
    crm_record: Record | None  # the CRM values the plan assumed (None: no CRM item)
    remote_record: Record | None
    target: Record
    crm_write: CreateInCrm | UpdateCrm | None
    remote_write: CreateInOutlook | UpdateOutlook | None
    conflicts: tuple[ConflictRecord, ...] = ()

    def settled_link(
        self,
        *,
        crm_id: str | None,
        remote_id: str | None,
        change_key: str | None,
        crm_written: bool,
        remote_written: bool,
    ) -> LinkState | None:
        """The link to store after the writes; `*_written` is False for a write that failed.

        After a partial failure the base keeps only the fields both sides now agree on, so the
        next run merges the rest again instead of mistaking a stale side for an edit.
        """
        if crm_id is None or remote_id is None:
            return None  # a create failed: there is no pair to store
        if crm_written and remote_written:
            return LinkState(crm_id, remote_id, change_key, dict(self.target))
        crm_now = self.target if crm_written else (self.crm_record or {})
        remote_now = self.target if remote_written else (self.remote_record or {})
        base = dict(self.link.base) if self.link else {}
        for name in self.target:
            if name in crm_now and name in remote_now and crm_now[name] == remote_now[name]:
                base[name] = crm_now[name]
        pending = self.link.pending if self.link else {}
        return LinkState(crm_id, remote_id, change_key, base, pending)


@dataclass(frozen=True)
class Remove:
    """Propagate a deletion (or none, when both sides are gone) and drop the link.

    Without a link it removes an orphan: an Outlook item a failed run created for a CRM item
    that has gone since.
    """

    link: LinkState | None
    crm_write: DeleteInCrm | None = None
    remote_write: DeleteInOutlook | None = None
    conflicts: tuple[ConflictRecord, ...] = ()


@dataclass(frozen=True)
class Hold:
    """A review conflict: store the link as held, touch neither side."""

    link: LinkState  # the state to store (held)
    previous: LinkState | None
    conflicts: tuple[ConflictRecord, ...] = ()


@dataclass(frozen=True)
class Skip:
    crm_id: str | None
    remote_id: str | None
    flow: Direction  # the direction the skipped change would have gone (BOTH: the whole item)
    reason: str


Action: TypeAlias = Reconcile | Remove | Hold | Skip


@dataclass(frozen=True)
class GuardReport:
    tripped: bool
    reason: str | None
    linked: int
    deletions: int
    withheld: int


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    guard: GuardReport
    # A complete Outlook listing already showed every tagged item, so the executor's look-up
    # by tag before creating (the crash-duplicate safety net) can be skipped.
    remote_listing_complete: bool
    # Outlook items linked or paired by this plan: a tag look-up must not adopt them (a tag is
    # stale once its item was matched to another CRM item, e.g. after a state reset).
    claimed_remote_ids: frozenset[str] = frozenset()

    @property
    def conflicts(self) -> tuple[ConflictRecord, ...]:
        return tuple(
            c for action in self.actions if not isinstance(action, Skip) for c in action.conflicts
        )

    @property
    def writes_anything(self) -> bool:
        """Whether applying the plan changes either side or the stored links."""
        return any(not isinstance(action, Skip) for action in self.actions)


@dataclass(frozen=True)
class ItemsToFetch:
    crm_ids: frozenset[str]
    remote_ids: frozenset[str]


def items_to_fetch(links: Iterable[LinkState]) -> ItemsToFetch:
    """Items a runner must load by id and add to the changes before planning.

    A link with pending values (an admin resolution) is merged against both sides' current
    values; an unlisted side would otherwise be assumed unchanged since it was held.
    """
    resolved = [link for link in links if link.pending]
    return ItemsToFetch(
        frozenset(link.crm_id for link in resolved),
        frozenset(link.remote_id for link in resolved),
    )


def plan_sync(
    links: Iterable[LinkState],
    crm_changes: Mapping[str, CrmItem | None],
    remote_changes: Mapping[str, RemoteItem | None],
    policy: EntityPolicy,
    *,
    crm_complete: bool = False,
    remote_complete: bool = False,
) -> Plan:
    """Plan one run for one user and entity.

    `links` are all stored links of that user and entity. The changes map ids to the items
    changed since the last run (None: deleted, or out of the user's scope); an item equal to its
    link's base is no change, which is how echoes of crmsync's own writes fall away. A side
    marked complete lists every live item, so a linked item absent from it is gone.
    """
    planner = _Planner(
        list(links), crm_changes, remote_changes, policy, crm_complete, remote_complete
    )
    return planner.plan()


class _Unknown:
    """A field value this run cannot know (not listed and never synchronized)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


_UNKNOWN: Final = _Unknown()
_Known: TypeAlias = Value | _Unknown


@dataclass(frozen=True)
class _Seen:
    """One side of a pair as this run sees it."""

    record: Record | None  # None: gone
    listed: bool
    modified: datetime | None = None

    @property
    def gone(self) -> bool:
        return self.record is None

    def value(self, name: str, base: Record) -> _Known:
        if self.listed and self.record is not None:
            return self.record.get(name)
        return base.get(name, _UNKNOWN)


def _edited(value: _Known, base_value: _Known) -> bool:
    """Whether a side changed a field since the base; with no base only a real value counts."""
    if isinstance(value, _Unknown):
        return False
    if isinstance(base_value, _Unknown):
        return not is_empty(value)
    return value != base_value


def _known(value: _Known) -> Value:
    return None if isinstance(value, _Unknown) else value


@dataclass(frozen=True)
class _FieldDecision:
    value: _Known
    conflict: ConflictRecord | None = None
    hold: bool = False


@dataclass
class _Pair:
    """The ids and the sides' states for one pair being merged."""

    link: LinkState | None
    crm_id: str
    remote_id: str
    change_key: str | None
    crm: _Seen
    remote: _Seen
    base: Record
    pending: Record
    retag: bool = False  # the Outlook item carries another CRM item's tag


class _Planner:
    def __init__(
        self,
        links: Sequence[LinkState],
        crm_changes: Mapping[str, CrmItem | None],
        remote_changes: Mapping[str, RemoteItem | None],
        policy: EntityPolicy,
        crm_complete: bool,
        remote_complete: bool,
    ) -> None:
        self.links = sorted(links, key=lambda link: link.crm_id)
        self.crm_changes = crm_changes
        self.remote_changes = remote_changes
        self.policy = policy
        self.crm_complete = crm_complete
        self.remote_complete = remote_complete
        self.linked_crm = {link.crm_id for link in self.links}
        self.linked_remote = {link.remote_id for link in self.links}
        if len(self.linked_crm) != len(self.links) or len(self.linked_remote) != len(self.links):
            raise ValueError("each CRM and Outlook item may belong to one link only")
        # Unlinked Outlook items crmsync created (tagged), by tag: a crash between the Exchange
        # create and the link save leaves them behind; they are adopted instead of duplicated.
        self.orphans: dict[str, RemoteItem] = {}
        self.adopted: set[str] = set()
        self.orphan_removals: list[Action] = []
        for remote_id in sorted(remote_changes):
            item = remote_changes[remote_id]
            if item and item.tag and remote_id not in self.linked_remote:
                self.orphans.setdefault(item.tag, item)

    def plan(self) -> Plan:
        kept: list[Action] = []
        disappearing: list[Action] = []
        for link in self.links:
            action, is_disappearance = self._plan_link(link)
            if action is not None:
                (disappearing if is_disappearance else kept).append(action)
        kept.extend(self._plan_unlinked())
        disappearing.extend(self.orphan_removals)
        guard = self._guard(disappearing)
        if guard.tripped:
            disappearing = [self._withheld(action, guard) for action in disappearing]
        claimed = self.linked_remote | self.adopted
        claimed |= {a.remote_id for a in kept if isinstance(a, Reconcile) and a.remote_id}
        return Plan(tuple(kept + disappearing), guard, self.remote_complete, frozenset(claimed))

    # --- linked pairs -------------------------------------------------------------------

    def _untouched(self, link: LinkState) -> bool:
        return not (
            link.pending
            or self.crm_complete
            or self.remote_complete
            or link.crm_id in self.crm_changes
            or link.remote_id in self.remote_changes
            or link.crm_id in self.orphans
        )

    def _crm_seen(self, link: LinkState) -> _Seen:
        if link.crm_id in self.crm_changes:
            item = self.crm_changes[link.crm_id]
            return _Seen(item.record, True, item.modified) if item else _Seen(None, True)
        return _Seen(None, True) if self.crm_complete else _Seen(link.base, False)

    def _remote_seen(self, remote_id: str, base: Record) -> tuple[_Seen, str | None]:
        if remote_id in self.remote_changes:
            item = self.remote_changes[remote_id]
            if item:
                return _Seen(item.record, True, item.modified), item.change_key
            return _Seen(None, True), None
        if self.remote_complete:
            return _Seen(None, True), None
        return _Seen(base, False), None

    def _plan_link(self, link: LinkState) -> tuple[Action | None, bool]:
        if link.held and not link.pending:
            return Hold(link, link), False
        if self._untouched(link):
            # Most links of an incremental run: neither side listed them, nothing to decide.
            return None, False
        crm = self._crm_seen(link)
        remote, change_key = self._remote_seen(link.remote_id, link.base)
        remote_id = link.remote_id
        orphan = self.orphans.get(link.crm_id)
        if remote.gone and orphan is not None:
            # The Outlook item was recreated by a run that died before saving the new link.
            del self.orphans[link.crm_id]
            self.adopted.add(orphan.remote_id)
            remote_id, change_key = orphan.remote_id, orphan.change_key
            remote = _Seen(orphan.record, True, orphan.modified)
        pair = _Pair(
            link,
            link.crm_id,
            remote_id,
            change_key or link.change_key,
            crm,
            remote,
            link.base,
            link.pending,
        )
        if crm.gone and remote.gone:
            return Remove(link), True
        if crm.gone or remote.gone:
            return self._plan_disappearance(link, pair), True
        return self._merge(pair), False

    def _plan_disappearance(self, link: LinkState, pair: _Pair) -> Action:
        deleted = Side.CRM if pair.crm.gone else Side.OUTLOOK
        survivor = pair.remote if pair.crm.gone else pair.crm
        survivor_record = survivor.record or {}
        if link.pending:  # the admin kept the item; their values beat later edits, recorded
            overwritten = [
                name
                for name, value in link.pending.items()
                if survivor_record.get(name) != value
                and _edited(survivor.value(name, link.base), link.base.get(name, _UNKNOWN))
            ]
            conflicts = self._deletion_conflicts(
                pair, deleted, survivor_record, overwritten, Applied.PENDING, Decider.ADMIN
            )
            return self._recreate(pair, deleted, survivor_record, conflicts)
        edited = sorted(
            name
            for name in set(link.base) | set(survivor_record)
            if survivor.listed and survivor_record.get(name) != link.base.get(name)
        )
        winner: Side | None
        direction = self.policy.direction
        if direction is not Direction.BOTH:
            source = Side.CRM if direction is Direction.CRM_TO_OUTLOOK else Side.OUTLOOK
            if deleted is not source:
                return self._recreate(pair, deleted, survivor_record, ())  # mirror repaired
            winner, decider = source, Decider.DIRECTION
        elif not edited:
            return self._delete_survivor(link, pair, deleted, ())
        else:
            winner, decider = self._deletion_winner(deleted), Decider(self.policy.conflict_policy)
        applied = Applied.NOTHING if winner is None else Applied(winner.value)
        conflicts = self._deletion_conflicts(
            pair, deleted, survivor_record, edited, applied, decider
        )
        if winner is None:
            return Hold(_held(link), link, conflicts)
        if winner is deleted:
            return self._delete_survivor(link, pair, deleted, conflicts)
        return self._recreate(pair, deleted, survivor_record, conflicts)

    @staticmethod
    def _deletion_conflicts(
        pair: _Pair,
        deleted: Side,
        survivor_record: Record,
        names: Iterable[str],
        applied: Applied,
        decider: Decider,
    ) -> tuple[ConflictRecord, ...]:
        return tuple(
            ConflictRecord(
                pair.crm_id,
                pair.remote_id,
                name,
                None if deleted is Side.CRM else survivor_record.get(name),
                None if deleted is Side.OUTLOOK else survivor_record.get(name),
                pair.base.get(name),
                applied,
                decider,
                deleted,
            )
            for name in names
        )

    def _deletion_winner(self, deleted: Side) -> Side | None:
        """The side whose intent wins a deletion-against-edit conflict; None: hold for review."""
        policy = self.policy.conflict_policy
        if policy is ConflictPolicy.REVIEW:
            return None
        if policy is ConflictPolicy.CRM_WINS:
            return Side.CRM
        if policy is ConflictPolicy.OUTLOOK_WINS:
            return Side.OUTLOOK
        return Side.OUTLOOK if deleted is Side.CRM else Side.CRM  # most recent: the edit survives

    def _delete_survivor(
        self, link: LinkState, pair: _Pair, deleted: Side, conflicts: tuple[ConflictRecord, ...]
    ) -> Remove:
        if deleted is Side.CRM:
            return Remove(link, remote_write=DeleteInOutlook(pair.remote_id), conflicts=conflicts)
        mode = self.policy.on_outlook_delete
        return Remove(link, crm_write=DeleteInCrm(pair.crm_id, mode), conflicts=conflicts)

    @staticmethod
    def _recreate(
        pair: _Pair, deleted: Side, survivor_record: Record, conflicts: tuple[ConflictRecord, ...]
    ) -> Reconcile:
        """Recreate the deleted side from the survivor (and any pending values)."""
        target = {**survivor_record, **pair.pending}
        survivor_changes = {
            name: value
            for name, value in pair.pending.items()
            if survivor_record.get(name, _UNKNOWN) != value
        }
        if deleted is Side.CRM:
            update_remote = UpdateOutlook(pair.remote_id, pair.change_key, survivor_changes)
            return Reconcile(
                link=pair.link,
                crm_id=None,
                remote_id=pair.remote_id,
                change_key=pair.change_key,
                crm_record=None,
                remote_record=survivor_record,
                target=target,
                crm_write=CreateInCrm(target, replaces=pair.crm_id),
                remote_write=update_remote if survivor_changes else None,
                conflicts=conflicts,
            )
        return Reconcile(
            link=pair.link,
            crm_id=pair.crm_id,
            remote_id=None,
            change_key=None,
            crm_record=survivor_record,
            remote_record=None,
            target=target,
            crm_write=UpdateCrm(pair.crm_id, survivor_changes) if survivor_changes else None,
            remote_write=CreateInOutlook(target, tag=pair.crm_id),
            conflicts=conflicts,
        )

    # --- the three-way merge ------------------------------------------------------------

    def _merge(self, pair: _Pair) -> Action | None:
        names = set(pair.base) | set(pair.pending)
        for seen in (pair.crm, pair.remote):
            if seen.listed and seen.record is not None:
                names |= set(seen.record)
        target: dict[str, Value] = {}
        crm_changes: dict[str, Value] = {}
        remote_changes: dict[str, Value] = {}
        conflicts: list[ConflictRecord] = []
        held: list[ConflictRecord] = []
        for name in sorted(names):
            crm_value = pair.crm.value(name, pair.base)
            remote_value = pair.remote.value(name, pair.base)
            decision = self._decide_field(pair, name, crm_value, remote_value)
            if decision.conflict is not None:
                (held if decision.hold else conflicts).append(decision.conflict)
            if isinstance(decision.value, _Unknown):
                continue
            target[name] = decision.value
            if crm_value != decision.value:
                crm_changes[name] = decision.value
            if remote_value != decision.value:
                remote_changes[name] = decision.value
        if held:
            state = LinkState(
                pair.crm_id, pair.remote_id, pair.change_key, pair.base, pair.pending, held=True
            )
            return Hold(state, pair.link, tuple(held))
        settled = LinkState(pair.crm_id, pair.remote_id, pair.change_key, target)
        if not crm_changes and not remote_changes and settled == pair.link:
            return None
        return Reconcile(
            link=pair.link,
            crm_id=pair.crm_id,
            remote_id=pair.remote_id,
            change_key=pair.change_key,
            crm_record=_known_values(pair.crm, names, pair.base),
            remote_record=_known_values(pair.remote, names, pair.base),
            target=target,
            crm_write=UpdateCrm(pair.crm_id, crm_changes) if crm_changes else None,
            remote_write=(
                UpdateOutlook(
                    pair.remote_id,
                    pair.change_key,
                    remote_changes,
                    retag=pair.crm_id if pair.retag else None,
                )
                if remote_changes or pair.retag
                else None
            ),
            conflicts=tuple(conflicts),
        )

    def _decide_field(
        self, pair: _Pair, name: str, crm_value: _Known, remote_value: _Known
    ) -> _FieldDecision:
        base_value = pair.base.get(name, _UNKNOWN)
        if name in pair.pending:
            value = pair.pending[name]
            return self._overwriting(pair, name, value, Applied.PENDING, Decider.ADMIN)
        if crm_value == remote_value:
            return _FieldDecision(crm_value)
        direction = self.policy.direction_of(name)
        if direction is Direction.CRM_TO_OUTLOOK:
            return self._overwriting(pair, name, crm_value, Applied.CRM, Decider.DIRECTION)
        if direction is Direction.OUTLOOK_TO_CRM:
            return self._overwriting(pair, name, remote_value, Applied.OUTLOOK, Decider.DIRECTION)
        if isinstance(remote_value, _Unknown):
            return _FieldDecision(crm_value)
        if isinstance(crm_value, _Unknown):
            return _FieldDecision(remote_value)
        crm_edited = _edited(crm_value, base_value)
        remote_edited = _edited(remote_value, base_value)
        if not remote_edited:
            return _FieldDecision(crm_value)  # also both empty, unequal: the CRM's, as a tie
        if not crm_edited:
            return _FieldDecision(remote_value)
        policy = self.policy.conflict_policy
        decider = Decider(policy.value)
        if policy is ConflictPolicy.REVIEW:
            conflict = self._conflict(pair, name, Applied.NOTHING, decider)
            return _FieldDecision(_UNKNOWN, conflict, hold=True)
        crm_wins = policy is ConflictPolicy.CRM_WINS or (
            policy is ConflictPolicy.MOST_RECENT and not _remote_more_recent(pair)
        )
        if crm_wins:
            return self._overwriting(pair, name, crm_value, Applied.CRM, decider)
        return self._overwriting(pair, name, remote_value, Applied.OUTLOOK, decider)

    def _overwriting(
        self, pair: _Pair, name: str, value: _Known, applied: Applied, decider: Decider
    ) -> _FieldDecision:
        """Apply `value`, recording a conflict when it overwrites an edit on either side."""
        if isinstance(value, _Unknown):
            return _FieldDecision(value)  # the source side never showed this field
        base_value = pair.base.get(name, _UNKNOWN)
        lost = any(
            _edited(side_value, base_value) and side_value != value
            for side_value in (pair.crm.value(name, pair.base), pair.remote.value(name, pair.base))
        )
        return _FieldDecision(value, self._conflict(pair, name, applied, decider) if lost else None)

    @staticmethod
    def _conflict(pair: _Pair, name: str, applied: Applied, decider: Decider) -> ConflictRecord:
        return ConflictRecord(
            pair.crm_id,
            pair.remote_id,
            name,
            _known(pair.crm.value(name, pair.base)),
            _known(pair.remote.value(name, pair.base)),
            _known(pair.base.get(name, _UNKNOWN)),
            applied,
            decider,
        )

    # --- unlinked items -----------------------------------------------------------------

    def _plan_unlinked(self) -> list[Action]:
        crm_pool = {
            crm_id: item
            for crm_id, item in sorted(self.crm_changes.items())
            if item is not None and crm_id not in self.linked_crm
        }
        remote_pool = {
            remote_id: item
            for remote_id, item in sorted(self.remote_changes.items())
            if item is not None
            and remote_id not in self.linked_remote
            and remote_id not in self.adopted
        }
        actions: list[Action] = []
        pairs: list[tuple[CrmItem, RemoteItem]] = []
        for remote_id, item in list(remote_pool.items()):
            tag = item.tag
            if tag is None or tag in self.linked_crm:
                continue  # a tag of a linked item was copied along with the item by the user
            if tag in crm_pool:
                pairs.append((crm_pool.pop(tag), remote_pool.pop(remote_id)))
            elif self._crm_item_gone(tag):
                if self.policy.direction is not Direction.OUTLOOK_TO_CRM:
                    self.orphan_removals.append(_orphan_removal(remote_pool.pop(remote_id), tag))
            elif tag not in self.crm_changes and not self.crm_complete:
                del remote_pool[remote_id]
                reason = f"made by crmsync for CRM item {tag}, which this run did not list"
                actions.append(Skip(tag, remote_id, Direction.BOTH, reason))
        pairs.extend(self._match_by_keys(crm_pool, remote_pool))
        for crm_item, remote_item in pairs:
            crm = _Seen(crm_item.record, True, crm_item.modified)
            remote = _Seen(remote_item.record, True, remote_item.modified)
            pair = _Pair(
                None,
                crm_item.crm_id,
                remote_item.remote_id,
                remote_item.change_key,
                crm,
                remote,
                base={},
                pending={},
                retag=remote_item.tag not in (None, crm_item.crm_id),
            )
            action = self._merge(pair)
            if action is not None:
                actions.append(action)
        actions.extend(self._create_in_outlook(item) for item in crm_pool.values())
        actions.extend(self._create_in_crm(item) for item in remote_pool.values())
        return actions

    def _crm_item_gone(self, crm_id: str) -> bool:
        listed = crm_id in self.crm_changes
        return self.crm_changes.get(crm_id) is None and (listed or self.crm_complete)

    def _match_by_keys(
        self, crm_pool: dict[str, CrmItem], remote_pool: dict[str, RemoteItem]
    ) -> list[tuple[CrmItem, RemoteItem]]:
        """First-sync matching: a key shared by exactly one item on each side pairs them."""
        crm_keys = {
            crm_id: self.policy.match_keys(item.record) for crm_id, item in crm_pool.items()
        }
        remote_keys = {
            remote_id: self.policy.match_keys(item.record)
            for remote_id, item in remote_pool.items()
        }
        depth = max(map(len, [*crm_keys.values(), *remote_keys.values()]), default=0)
        pairs: list[tuple[CrmItem, RemoteItem]] = []
        for level in range(depth):
            remote_index = _index_by_key(remote_keys, remote_pool, level)
            for key, crm_ids in _index_by_key(crm_keys, crm_pool, level).items():
                remote_ids = remote_index.get(key, [])
                if len(crm_ids) == 1 and len(remote_ids) == 1:
                    pairs.append((crm_pool.pop(crm_ids[0]), remote_pool.pop(remote_ids[0])))
        return pairs

    def _create_in_outlook(self, item: CrmItem) -> Action:
        if self.policy.direction is Direction.OUTLOOK_TO_CRM:
            reason = "not sent: this entity synchronizes from Outlook to the CRM only"
            return Skip(item.crm_id, None, Direction.CRM_TO_OUTLOOK, reason)
        return Reconcile(
            link=None,
            crm_id=item.crm_id,
            remote_id=None,
            change_key=None,
            crm_record=item.record,
            remote_record=None,
            target=item.record,
            crm_write=None,
            remote_write=CreateInOutlook(item.record, tag=item.crm_id),
        )

    def _create_in_crm(self, item: RemoteItem) -> Action:
        if self.policy.direction is Direction.CRM_TO_OUTLOOK:
            reason = "not brought in: this entity synchronizes from the CRM to Outlook only"
            return Skip(None, item.remote_id, Direction.OUTLOOK_TO_CRM, reason)
        return Reconcile(
            link=None,
            crm_id=None,
            remote_id=item.remote_id,
            change_key=item.change_key,
            crm_record=None,
            remote_record=item.record,
            target=item.record,
            crm_write=CreateInCrm(item.record),
            remote_write=None,
        )

    # --- the mass-deletion guard --------------------------------------------------------

    def _guard(self, disappearing: Sequence[Action]) -> GuardReport:
        linked = len(self.links)
        deletions = sum(
            1
            for action in disappearing
            if isinstance(action, Remove) and (action.crm_write or action.remote_write)
        )
        reasons: list[str] = []
        if linked > self.policy.mass_delete_minimum:
            threshold = self.policy.mass_delete_threshold
            if deletions > threshold * linked:
                reasons.append(
                    f"the run would delete {deletions} of {linked} linked items,"
                    f" more than {threshold:.0%}"
                )
            listings = (
                ("CRM", self.crm_complete, self.crm_changes, self.linked_crm),
                ("Outlook", self.remote_complete, self.remote_changes, self.linked_remote),
            )
            for side, complete, changes, linked_ids in listings:
                if complete and not any(changes.get(item_id) for item_id in linked_ids):
                    reasons.append(f"the {side} side reports none of the {linked} linked items")
        if not reasons:
            return GuardReport(False, None, linked, deletions, 0)
        if self.policy.deletions_confirmed:
            reason = "; ".join(reasons) + " (confirmed by an administrator)"
            return GuardReport(False, reason, linked, deletions, 0)
        reason = "; ".join(reasons) + ": deletions withheld until an administrator confirms them"
        return GuardReport(True, reason, linked, deletions, len(disappearing))

    @staticmethod
    def _withheld(action: Action, guard: GuardReport) -> Skip:
        if isinstance(action, Skip):
            return action
        link = action.link
        if link is not None:
            crm_id, remote_id = link.crm_id, link.remote_id
        elif isinstance(action, Remove) and action.remote_write is not None:
            crm_id, remote_id = None, action.remote_write.remote_id
        else:
            crm_id = remote_id = None
        return Skip(crm_id, remote_id, Direction.BOTH, guard.reason or "withheld")


def _orphan_removal(item: RemoteItem, crm_id: str) -> Remove:
    """Remove an item a failed run made for a CRM item now gone, keeping its values logged."""
    conflicts = tuple(
        ConflictRecord(
            crm_id,
            item.remote_id,
            name,
            None,
            value,
            None,
            Applied.CRM,
            Decider.RECOVERY,
            Side.CRM,
        )
        for name, value in sorted(item.record.items())
        if not is_empty(value)
    )
    return Remove(None, remote_write=DeleteInOutlook(item.remote_id), conflicts=conflicts)


def _index_by_key(
    keys: Mapping[str, Sequence[Hashable | None]], pool: Iterable[str], level: int
) -> dict[Hashable, list[str]]:
    index: dict[Hashable, list[str]] = defaultdict(list)
    for item_id in pool:
        item_keys = keys[item_id]
        key = item_keys[level] if level < len(item_keys) else None
        if key is not None:
            index[key].append(item_id)
    return index


def _remote_more_recent(pair: _Pair) -> bool:
    crm_modified, remote_modified = pair.crm.modified, pair.remote.modified
    return (
        crm_modified is not None and remote_modified is not None and remote_modified > crm_modified
    )


def _known_values(seen: _Seen, names: Iterable[str], base: Record) -> dict[str, Value]:
    values = {name: seen.value(name, base) for name in names}
    return {name: value for name, value in values.items() if not isinstance(value, _Unknown)}


def _held(link: LinkState) -> LinkState:
    return LinkState(link.crm_id, link.remote_id, link.change_key, link.base, link.pending, True)
