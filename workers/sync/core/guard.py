"""The mass-deletion guard: a plan that would delete too much is held until confirmed.

A listing that shows none of the linked items (an emptied folder, a lost CRM scope) or a plan
deleting more than the threshold's share of the links is far more often a mistake than an
intent; its deletions become skips until an administrator confirms them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from app.kit.sync_policy import Direction
from workers.sync.core.actions import Action, GuardReport, Remove, Skip
from workers.sync.core.policy import EntityPolicy


def guard(
    disappearing: Sequence[Action],
    policy: EntityPolicy,
    listings: Sequence[tuple[str, bool, Mapping[str, object], Collection[str]]],
    linked: int,
) -> GuardReport:
    """The guard's verdict on the deletions of a plan.

    `listings` are, per side, its name, whether its listing was complete, its changes by id
    and its linked ids.
    """
    deletions = sum(
        1
        for action in disappearing
        if isinstance(action, Remove) and (action.crm_write or action.remote_write)
    )
    reasons: list[str] = []
    if linked > policy.mass_delete_minimum:
        threshold = policy.mass_delete_threshold
        if deletions > threshold * linked:
            reasons.append(
                f"the run would delete {deletions} of {linked} linked items,"
                f" more than {threshold:.0%}"
            )
        for side, complete, changes, linked_ids in listings:
            if complete and not any(changes.get(item_id) for item_id in linked_ids):
                reasons.append(f"the {side} side reports none of the {linked} linked items")
    if not reasons:
        return GuardReport(False, None, linked, deletions, 0)
    if policy.deletions_confirmed:
        reason = "; ".join(reasons) + " (confirmed by an administrator)"
        return GuardReport(False, reason, linked, deletions, 0)
    reason = "; ".join(reasons) + ": deletions withheld until an administrator confirms them"
    return GuardReport(True, reason, linked, deletions, len(disappearing))


def withheld(action: Action, report: GuardReport) -> Skip:
    """The skip standing for a deletion the guard holds back."""
    if isinstance(action, Skip):
        return action
    link = action.link
    if link is not None:
        crm_id, remote_id = link.crm_id, link.remote_id
    elif isinstance(action, Remove) and action.remote_write is not None:
        crm_id, remote_id = None, action.remote_write.remote_id
    else:
        crm_id = remote_id = None
    return Skip(crm_id, remote_id, Direction.BOTH, report.reason or "withheld")
