"""What a sync plan is made of: the writes per side, the actions per pair, the plan itself.

Every action concerns one pair (or one unpaired item) and carries the link state to store once
its writes succeed (`Reconcile.settled_link`), so a failed write never advances the stored state
past what both sides really hold (vdirsyncer's rule). Frozen dataclasses, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from app.kit.sync_policy import Direction, OutlookDeleteMode
from workers.sync.core.records import LinkState, Record, Value


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
    """Change some fields of an item.

    A connector may need more than the changed fields: a multi-value field (addresses, the
    occurrences of a series) is written whole, and a series whose deleted occurrence comes back
    is rewritten from its pattern. So the write carries the item's record as the plan saw it
    (`current`: listed, or its link's base); it takes no part in comparing two writes, which
    are equal when they change the same fields of the same item the same way.
    """

    remote_id: str
    change_key: str | None
    changes: Record
    # Re-stamp the item's tag: it named another CRM item (a stale tag would pair it wrongly
    # after a state reset).
    retag: str | None = None
    current: Record = field(default_factory=dict, compare=False)

    @property
    def full_record(self) -> dict[str, Value]:
        """The item's record once the write is applied."""
        return {**self.current, **self.changes}


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
