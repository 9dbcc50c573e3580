"""The three-way merge of one pair: each field compared with its base, decided, recorded.

A field edited on one side only takes that side's value; edited on both, the entity's direction
or conflict policy decides and a `ConflictRecord` keeps the value that lost. A field a side did
not list is assumed unchanged since the base (`Seen.value`); one never synchronized and not
listed is `UNKNOWN` and left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeAlias

from app.kit.sync_policy import ConflictPolicy, Direction
from workers.sync.core.actions import (
    Action,
    Applied,
    ConflictRecord,
    Decider,
    Hold,
    Reconcile,
    UpdateCrm,
    UpdateOutlook,
)
from workers.sync.core.policy import EntityPolicy
from workers.sync.core.records import LinkState, Record, Value, is_empty


class _Unknown:
    """A field value this run cannot know (not listed and never synchronized)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
Known: TypeAlias = Value | _Unknown


@dataclass(frozen=True)
class Seen:
    """One side of a pair as this run sees it."""

    record: Record | None  # None: gone
    listed: bool
    modified: datetime | None = None

    @property
    def gone(self) -> bool:
        return self.record is None

    def value(self, name: str, base: Record) -> Known:
        if self.listed and self.record is not None:
            return self.record.get(name)
        return base.get(name, UNKNOWN)


def edited(value: Known, base_value: Known) -> bool:
    """Whether a side changed a field since the base; with no base only a real value counts."""
    if isinstance(value, _Unknown):
        return False
    if isinstance(base_value, _Unknown):
        return not is_empty(value)
    return value != base_value


def _known(value: Known) -> Value:
    return None if isinstance(value, _Unknown) else value


@dataclass(frozen=True)
class _FieldDecision:
    value: Known
    conflict: ConflictRecord | None = None
    hold: bool = False


@dataclass
class Pair:
    """The ids and the sides' states for one pair being merged."""

    link: LinkState | None
    crm_id: str
    remote_id: str
    change_key: str | None
    crm: Seen
    remote: Seen
    base: Record
    pending: Record
    retag: bool = False  # the Outlook item carries another CRM item's tag


def merge(pair: Pair, policy: EntityPolicy) -> Action | None:
    """The action bringing both sides of `pair` to the merged record; None: nothing to do."""
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
        decision = _decide_field(pair, policy, name, crm_value, remote_value)
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
    remote_record = known_values(pair.remote, names, pair.base)
    return Reconcile(
        link=pair.link,
        crm_id=pair.crm_id,
        remote_id=pair.remote_id,
        change_key=pair.change_key,
        crm_record=known_values(pair.crm, names, pair.base),
        remote_record=remote_record,
        target=target,
        crm_write=UpdateCrm(pair.crm_id, crm_changes) if crm_changes else None,
        remote_write=(
            UpdateOutlook(
                pair.remote_id,
                pair.change_key,
                remote_changes,
                retag=pair.crm_id if pair.retag else None,
                current=remote_record,
            )
            if remote_changes or pair.retag
            else None
        ),
        conflicts=tuple(conflicts),
    )


def _decide_field(
    pair: Pair, policy: EntityPolicy, name: str, crm_value: Known, remote_value: Known
) -> _FieldDecision:
    base_value = pair.base.get(name, UNKNOWN)
    if name in pair.pending:
        value = pair.pending[name]
        return _overwriting(pair, name, value, Applied.PENDING, Decider.ADMIN)
    if crm_value == remote_value:
        return _FieldDecision(crm_value)
    direction = policy.direction_of(name)
    if direction is Direction.CRM_TO_OUTLOOK:
        return _overwriting(pair, name, crm_value, Applied.CRM, Decider.DIRECTION)
    if direction is Direction.OUTLOOK_TO_CRM:
        return _overwriting(pair, name, remote_value, Applied.OUTLOOK, Decider.DIRECTION)
    if isinstance(remote_value, _Unknown):
        return _FieldDecision(crm_value)
    if isinstance(crm_value, _Unknown):
        return _FieldDecision(remote_value)
    crm_edited = edited(crm_value, base_value)
    remote_edited = edited(remote_value, base_value)
    if not remote_edited:
        return _FieldDecision(crm_value)  # also both empty, unequal: the CRM's, as a tie
    if not crm_edited:
        return _FieldDecision(remote_value)
    conflict_policy = policy.conflict_policy
    decider = Decider(conflict_policy.value)
    if conflict_policy is ConflictPolicy.REVIEW:
        conflict = _conflict(pair, name, Applied.NOTHING, decider)
        return _FieldDecision(UNKNOWN, conflict, hold=True)
    crm_wins = conflict_policy is ConflictPolicy.CRM_WINS or (
        conflict_policy is ConflictPolicy.MOST_RECENT and not _remote_more_recent(pair)
    )
    if crm_wins:
        return _overwriting(pair, name, crm_value, Applied.CRM, decider)
    return _overwriting(pair, name, remote_value, Applied.OUTLOOK, decider)


def _overwriting(
    pair: Pair, name: str, value: Known, applied: Applied, decider: Decider
) -> _FieldDecision:
    """Apply `value`, recording a conflict when it overwrites an edit on either side."""
    if isinstance(value, _Unknown):
        return _FieldDecision(value)  # the source side never showed this field
    base_value = pair.base.get(name, UNKNOWN)
    lost = any(
        edited(side_value, base_value) and side_value != value
        for side_value in (pair.crm.value(name, pair.base), pair.remote.value(name, pair.base))
    )
    return _FieldDecision(value, _conflict(pair, name, applied, decider) if lost else None)


def _conflict(pair: Pair, name: str, applied: Applied, decider: Decider) -> ConflictRecord:
    return ConflictRecord(
        pair.crm_id,
        pair.remote_id,
        name,
        _known(pair.crm.value(name, pair.base)),
        _known(pair.remote.value(name, pair.base)),
        _known(pair.base.get(name, UNKNOWN)),
        applied,
        decider,
    )


def _remote_more_recent(pair: Pair) -> bool:
    crm_modified, remote_modified = pair.crm.modified, pair.remote.modified
    return (
        crm_modified is not None and remote_modified is not None and remote_modified > crm_modified
    )


def known_values(seen: Seen, names: Iterable[str], base: Record) -> dict[str, Value]:
    values = {name: seen.value(name, base) for name in names}
    return {name: value for name, value in values.items() if not isinstance(value, _Unknown)}
