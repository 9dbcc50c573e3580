"""The sync planner: stored link states compared with both sides' changes yield actions.

Pure: no I/O, no clock, deterministic for the same inputs (vdirsyncer's design). The planner
knows nothing about CRM tables or Exchange; it sees canonical records (`records.Record`) made by
the entity mappers, and a per-entity `EntityPolicy`. The pieces it is made of: `merge` (the
three-way merge of one pair), `deletions` (a pair one side of which has gone), `guard` (the
mass-deletion guard); the actions it yields are in `actions`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.kit.sync_policy import ConflictPolicy, Direction, OutlookDeleteMode
from workers.sync.core.actions import (
    Action,
    Applied,
    ConflictRecord,
    CreateInCrm,
    CreateInOutlook,
    CrmWrite,
    Decider,
    DeleteInCrm,
    DeleteInOutlook,
    GuardReport,
    Hold,
    Plan,
    Reconcile,
    RemoteWrite,
    Remove,
    Side,
    Skip,
    UpdateCrm,
    UpdateOutlook,
)
from workers.sync.core.deletions import orphan_removal, plan_disappearance
from workers.sync.core.guard import guard, withheld
from workers.sync.core.merge import Pair, Seen, merge
from workers.sync.core.policy import EntityPolicy
from workers.sync.core.records import CrmItem, LinkState, Record, RemoteItem, Value, record_hash

# The planner's vocabulary, importable from one place by the runner, adapters and tests.
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
        report = guard(
            disappearing,
            self.policy,
            (
                ("CRM", self.crm_complete, self.crm_changes, self.linked_crm),
                ("Outlook", self.remote_complete, self.remote_changes, self.linked_remote),
            ),
            len(self.links),
        )
        if report.tripped:
            disappearing = [withheld(action, report) for action in disappearing]
        claimed = self.linked_remote | self.adopted
        claimed |= {a.remote_id for a in kept if isinstance(a, Reconcile) and a.remote_id}
        return Plan(tuple(kept + disappearing), report, self.remote_complete, frozenset(claimed))

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

    def _crm_seen(self, link: LinkState) -> Seen:
        if link.crm_id in self.crm_changes:
            item = self.crm_changes[link.crm_id]
            return Seen(item.record, True, item.modified) if item else Seen(None, True)
        return Seen(None, True) if self.crm_complete else Seen(link.base, False)

    def _remote_seen(self, remote_id: str, base: Record) -> tuple[Seen, str | None]:
        if remote_id in self.remote_changes:
            item = self.remote_changes[remote_id]
            if item:
                return Seen(item.record, True, item.modified), item.change_key
            return Seen(None, True), None
        if self.remote_complete:
            return Seen(None, True), None
        return Seen(base, False), None

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
            remote = Seen(orphan.record, True, orphan.modified)
        pair = Pair(
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
            return plan_disappearance(link, pair, self.policy), True
        return merge(pair, self.policy), False

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
                    self.orphan_removals.append(orphan_removal(remote_pool.pop(remote_id), tag))
            elif tag not in self.crm_changes and not self.crm_complete:
                del remote_pool[remote_id]
                reason = f"made by crmsync for CRM item {tag}, which this run did not list"
                actions.append(Skip(tag, remote_id, Direction.BOTH, reason))
        pairs.extend(self._match_by_keys(crm_pool, remote_pool))
        for crm_item, remote_item in pairs:
            crm = Seen(crm_item.record, True, crm_item.modified)
            remote = Seen(remote_item.record, True, remote_item.modified)
            pair = Pair(
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
            action = merge(pair, self.policy)
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
