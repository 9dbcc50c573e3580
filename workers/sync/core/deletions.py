"""A pair one side of which has gone: propagate the deletion, recreate the item, or hold it.

A deletion against an edit on the other side is a conflict like any other, decided by the
entity's direction or conflict policy and recorded with the surviving values; an item an
administrator resolved (pending values) is recreated with them.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.kit.sync_policy import ConflictPolicy, Direction
from workers.sync.core.actions import (
    Action,
    Applied,
    ConflictRecord,
    CreateInCrm,
    CreateInOutlook,
    Decider,
    DeleteInCrm,
    DeleteInOutlook,
    Hold,
    Reconcile,
    Remove,
    Side,
    UpdateCrm,
    UpdateOutlook,
)
from workers.sync.core.merge import UNKNOWN, Pair, edited
from workers.sync.core.policy import EntityPolicy
from workers.sync.core.records import LinkState, Record, RemoteItem, is_empty


def plan_disappearance(link: LinkState, pair: Pair, policy: EntityPolicy) -> Action:
    """The action for a linked pair exactly one side of which is gone."""
    deleted = Side.CRM if pair.crm.gone else Side.OUTLOOK
    survivor = pair.remote if pair.crm.gone else pair.crm
    survivor_record = survivor.record or {}
    if link.pending:  # the admin kept the item; their values beat later edits, recorded
        overwritten = [
            name
            for name, value in link.pending.items()
            if survivor_record.get(name) != value
            and edited(survivor.value(name, link.base), link.base.get(name, UNKNOWN))
        ]
        conflicts = _deletion_conflicts(
            pair, deleted, survivor_record, overwritten, Applied.PENDING, Decider.ADMIN
        )
        return _recreate(pair, deleted, survivor_record, conflicts)
    changed = sorted(
        name
        for name in set(link.base) | set(survivor_record)
        if survivor.listed and survivor_record.get(name) != link.base.get(name)
    )
    winner: Side | None
    direction = policy.direction
    if direction is not Direction.BOTH:
        source = Side.CRM if direction is Direction.CRM_TO_OUTLOOK else Side.OUTLOOK
        if deleted is not source:
            return _recreate(pair, deleted, survivor_record, ())  # mirror repaired
        winner, decider = source, Decider.DIRECTION
    elif not changed:
        return _delete_survivor(link, pair, deleted, policy, ())
    else:
        winner, decider = _deletion_winner(deleted, policy), Decider(policy.conflict_policy)
    applied = Applied.NOTHING if winner is None else Applied(winner.value)
    conflicts = _deletion_conflicts(pair, deleted, survivor_record, changed, applied, decider)
    if winner is None:
        return Hold(held(link), link, conflicts)
    if winner is deleted:
        return _delete_survivor(link, pair, deleted, policy, conflicts)
    return _recreate(pair, deleted, survivor_record, conflicts)


def _deletion_conflicts(
    pair: Pair,
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


def _deletion_winner(deleted: Side, policy: EntityPolicy) -> Side | None:
    """The side whose intent wins a deletion-against-edit conflict; None: hold for review."""
    conflict_policy = policy.conflict_policy
    if conflict_policy is ConflictPolicy.REVIEW:
        return None
    if conflict_policy is ConflictPolicy.CRM_WINS:
        return Side.CRM
    if conflict_policy is ConflictPolicy.OUTLOOK_WINS:
        return Side.OUTLOOK
    return Side.OUTLOOK if deleted is Side.CRM else Side.CRM  # most recent: the edit survives


def _delete_survivor(
    link: LinkState,
    pair: Pair,
    deleted: Side,
    policy: EntityPolicy,
    conflicts: tuple[ConflictRecord, ...],
) -> Remove:
    if deleted is Side.CRM:
        return Remove(link, remote_write=DeleteInOutlook(pair.remote_id), conflicts=conflicts)
    mode = policy.on_outlook_delete
    return Remove(link, crm_write=DeleteInCrm(pair.crm_id, mode), conflicts=conflicts)


def _recreate(
    pair: Pair, deleted: Side, survivor_record: Record, conflicts: tuple[ConflictRecord, ...]
) -> Reconcile:
    """Recreate the deleted side from the survivor (and any pending values)."""
    target = {**survivor_record, **pair.pending}
    survivor_changes = {
        name: value
        for name, value in pair.pending.items()
        if survivor_record.get(name, UNKNOWN) != value
    }
    if deleted is Side.CRM:
        update_remote = UpdateOutlook(
            pair.remote_id,
            pair.change_key,
            survivor_changes,
            current=survivor_record,
        )
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


def orphan_removal(item: RemoteItem, crm_id: str) -> Remove:
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


def held(link: LinkState) -> LinkState:
    return LinkState(link.crm_id, link.remote_id, link.change_key, link.base, link.pending, True)
