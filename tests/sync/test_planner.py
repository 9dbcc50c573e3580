from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from workers.sync.core.planner import (
    Applied,
    ConflictPolicy,
    CreateInCrm,
    CreateInOutlook,
    CrmItem,
    Decider,
    DeleteInCrm,
    DeleteInOutlook,
    Direction,
    EntityPolicy,
    Hold,
    LinkState,
    OutlookDeleteMode,
    Plan,
    Reconcile,
    Record,
    RemoteItem,
    Remove,
    Side,
    Skip,
    UpdateCrm,
    UpdateOutlook,
    items_to_fetch,
    plan_sync,
    record_hash,
)

EARLY = datetime(2024, 5, 1, 9, 0)
LATE = EARLY + timedelta(hours=1)
BASE = {"email": "ann@example.test", "name": "Ann", "phone": "1"}


def contact_keys(record: Record) -> Sequence[Hashable | None]:
    email = record.get("email")
    return [email or None, (record.get("name"), record.get("company"))]


def policy(
    direction: Direction = Direction.BOTH,
    conflicts: ConflictPolicy = ConflictPolicy.MOST_RECENT,
    **options: object,
) -> EntityPolicy:
    return replace(
        EntityPolicy(direction, conflicts, OutlookDeleteMode.UNFLAG, contact_keys), **options
    )


def link(crm_id: str = "c1", remote_id: str = "r1", **changes: object) -> LinkState:
    return replace(LinkState(crm_id, remote_id, "ck1", dict(BASE)), **changes)


def crm(crm_id: str = "c1", modified: datetime = EARLY, **values: object) -> CrmItem:
    return CrmItem(crm_id, {**BASE, **values}, modified)


def remote(
    remote_id: str = "r1", modified: datetime = EARLY, tag: str | None = None, **values: object
) -> RemoteItem:
    return RemoteItem(remote_id, "ck2", {**BASE, **values}, modified, tag)


def plan(
    links: Sequence[LinkState] = (),
    crm_items: Sequence[CrmItem | tuple[str, None]] = (),
    remote_items: Sequence[RemoteItem | tuple[str, None]] = (),
    entity: EntityPolicy | None = None,
    **complete: bool,
) -> Plan:
    return plan_sync(
        links,
        by_id(crm_items),
        by_id(remote_items),
        entity or policy(),
        **complete,
    )


def by_id(items: Sequence[CrmItem | RemoteItem | tuple[str, None]]) -> dict[str, Any]:
    """Changes keyed by id; ("id", None) stands for an item gone from that side."""
    listed: dict[str, Any] = {}
    for item in items:
        if isinstance(item, tuple):
            listed[item[0]] = None
        else:
            listed[item.crm_id if isinstance(item, CrmItem) else item.remote_id] = item
    return listed


def only(result: Plan) -> Any:
    assert len(result.actions) == 1, result.actions
    return result.actions[0]


# --- three-way merge -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conflicts", "crm_modified", "remote_modified", "winner"),
    [
        (ConflictPolicy.CRM_WINS, LATE, EARLY, Applied.CRM),
        (ConflictPolicy.OUTLOOK_WINS, LATE, EARLY, Applied.OUTLOOK),
        (ConflictPolicy.MOST_RECENT, EARLY, LATE, Applied.OUTLOOK),
        (ConflictPolicy.MOST_RECENT, LATE, EARLY, Applied.CRM),
        (ConflictPolicy.MOST_RECENT, EARLY, EARLY, Applied.CRM),  # a tie goes to the CRM
    ],
)
def test_a_field_changed_on_both_sides_is_decided_by_the_policy(
    conflicts: ConflictPolicy, crm_modified: datetime, remote_modified: datetime, winner: Applied
) -> None:
    action = only(
        plan(
            [link()],
            [crm(modified=crm_modified, phone="crm")],
            [remote(modified=remote_modified, phone="outlook")],
            policy(conflicts=conflicts),
        )
    )
    assert isinstance(action, Reconcile)
    expected = "crm" if winner is Applied.CRM else "outlook"
    assert action.target["phone"] == expected
    [conflict] = action.conflicts
    assert (conflict.field, conflict.crm_value, conflict.outlook_value) == (
        "phone",
        "crm",
        "outlook",
    )
    assert (conflict.base_value, conflict.applied) == ("1", winner)
    assert conflict.decided_by == Decider(conflicts.value)
    loser_write = action.remote_write if winner is Applied.CRM else action.crm_write
    other_write = action.crm_write if winner is Applied.CRM else action.remote_write
    assert loser_write is not None and dict(loser_write.changes) == {"phone": expected}
    assert other_write is None


@pytest.mark.parametrize("conflicts", list(ConflictPolicy))
def test_fields_changed_on_one_side_each_are_merged_without_conflict(
    conflicts: ConflictPolicy,
) -> None:
    action = only(
        plan([link()], [crm(phone="2")], [remote(name="Annie")], policy(conflicts=conflicts))
    )
    assert isinstance(action, Reconcile)
    assert action.conflicts == ()
    assert action.crm_write == UpdateCrm("c1", {"name": "Annie"})
    assert action.remote_write == UpdateOutlook("r1", "ck2", {"phone": "2"})
    assert action.target == {**BASE, "phone": "2", "name": "Annie"}


def test_the_same_change_on_both_sides_only_refreshes_the_base() -> None:
    action = only(plan([link()], [crm(phone="2")], [remote(phone="2")]))
    assert isinstance(action, Reconcile)
    assert (action.crm_write, action.remote_write, action.conflicts) == (None, None, ())
    assert action.target["phone"] == "2"


def test_items_equal_to_the_base_are_no_changes_so_echoes_plan_nothing() -> None:
    stored = link(change_key="ck2")
    assert plan([stored], [crm()], [remote()]).actions == ()
    assert (
        plan([stored], [crm()], [remote()], crm_complete=True, remote_complete=True).actions == ()
    )


def test_an_unlisted_side_counts_as_unchanged() -> None:
    action = only(plan([link()], [crm(phone="2")]))
    assert isinstance(action, Reconcile)
    assert action.remote_write == UpdateOutlook("r1", "ck1", {"phone": "2"})  # the stored key


def test_review_holds_the_whole_item_and_reports_the_conflicts() -> None:
    action = only(
        plan(
            [link()],
            [crm(phone="crm", name="Anne")],
            [remote(phone="outlook")],
            policy(conflicts=ConflictPolicy.REVIEW),
        )
    )
    assert isinstance(action, Hold)
    assert action.link.held and action.link.base == BASE
    [conflict] = action.conflicts
    assert (conflict.field, conflict.applied) == ("phone", Applied.NOTHING)


def test_a_held_link_stays_untouched_until_resolved() -> None:
    held = link(held=True)
    action = only(plan([held], [crm(phone="x")], [remote(phone="y")]))
    assert action == Hold(held, held)


def test_pending_values_beat_every_change_and_go_to_both_sides() -> None:
    resolved = link(held=True, pending={"phone": "admin"})
    action = only(
        plan(
            [resolved],
            [crm(phone="crm", name="Anne")],
            [remote(phone="outlook")],
            policy(conflicts=ConflictPolicy.REVIEW),
        )
    )
    assert isinstance(action, Reconcile)
    assert action.crm_write == UpdateCrm("c1", {"phone": "admin"})
    assert action.remote_write == UpdateOutlook("r1", "ck2", {"name": "Anne", "phone": "admin"})
    [conflict] = action.conflicts
    assert (conflict.applied, conflict.decided_by) == (Applied.PENDING, Decider.ADMIN)
    settled = action.settled_link(
        crm_id="c1", remote_id="r1", change_key="ck3", crm_written=True, remote_written=True
    )
    assert settled is not None and not settled.held and settled.pending == {}


def test_items_to_fetch_names_both_sides_of_resolved_links() -> None:
    fetch = items_to_fetch([link(), link("c2", "r2", pending={"phone": "9"})])
    assert (fetch.crm_ids, fetch.remote_ids) == ({"c2"}, {"r2"})


# --- first-sync matching -------------------------------------------------------------------


def test_first_sync_matches_by_email_and_empty_fields_take_the_other_side() -> None:
    action = only(
        plan(
            crm_items=[crm("c1", phone=None, name="Ann")],
            remote_items=[remote("r1", phone="555", name="")],
            crm_complete=True,
            remote_complete=True,
        )
    )
    assert isinstance(action, Reconcile) and action.link is None
    assert action.conflicts == ()
    assert action.crm_write == UpdateCrm("c1", {"phone": "555"})
    assert action.remote_write == UpdateOutlook("r1", "ck2", {"name": "Ann"})


def test_first_sync_differences_are_conflicts_decided_by_the_policy() -> None:
    action = only(
        plan(
            crm_items=[crm("c1", phone="1")],
            remote_items=[remote("r1", phone="2")],
            entity=policy(conflicts=ConflictPolicy.OUTLOOK_WINS),
        )
    )
    assert isinstance(action, Reconcile)
    assert action.crm_write == UpdateCrm("c1", {"phone": "2"})
    assert [(c.field, c.base_value, c.applied) for c in action.conflicts] == [
        ("phone", None, Applied.OUTLOOK)
    ]


def test_an_ambiguous_key_falls_through_to_the_next_one() -> None:
    result = plan(
        crm_items=[crm("c1", name="Ann"), crm("c2", name="Bob")],
        remote_items=[remote("r1", name="Bob"), remote("r2", name="Cy")],
    )
    # All share one email: ambiguous; the names pair Bob, the rest are created.
    pairs = {
        (a.crm_id, a.remote_id)
        for a in result.actions
        if isinstance(a, Reconcile) and a.crm_id and a.remote_id
    }
    assert pairs == {("c2", "r1")}
    creates = [
        type(a.crm_write or a.remote_write)
        for a in result.actions
        if isinstance(a, Reconcile) and not (a.crm_id and a.remote_id)
    ]
    assert sorted(t.__name__ for t in creates) == ["CreateInCrm", "CreateInOutlook"]


def test_each_item_is_matched_at_most_once() -> None:
    result = plan(
        crm_items=[crm("c1", email=None), crm("c2", email=None)],
        remote_items=[remote("r1", email=None)],
    )
    kinds = sorted(
        type(a.crm_write or a.remote_write).__name__
        for a in result.actions
        if isinstance(a, Reconcile)
    )
    assert kinds == ["CreateInCrm", "CreateInOutlook", "CreateInOutlook"]


def test_a_tagged_outlook_item_heals_a_crash_between_create_and_link_save() -> None:
    action = only(plan(crm_items=[crm("c7", email="x@y")], remote_items=[remote("r9", tag="c7")]))
    assert isinstance(action, Reconcile)
    assert (action.crm_id, action.remote_id, action.link) == ("c7", "r9", None)


def test_a_recreated_outlook_item_replaces_the_deleted_one_after_a_crash() -> None:
    action = only(
        plan([link()], remote_items=[("r1", None), remote("r2", tag="c1")], crm_items=[crm()])
    )
    assert isinstance(action, Reconcile)
    assert (action.remote_id, action.crm_write, action.remote_write) == ("r2", None, None)


def test_an_item_matched_by_keys_to_another_crm_item_gets_that_items_tag() -> None:
    # r9 carries the tag of c7, which is linked to r1 (r9 is a copy); it matches c1 by email.
    result = plan(
        [link("c7", "r1", change_key="ck2")],
        [crm("c1")],
        [remote("r9", tag="c7"), remote("r1")],
    )
    action = only(result)
    assert isinstance(action, Reconcile) and (action.crm_id, action.remote_id) == ("c1", "r9")
    assert action.remote_write == UpdateOutlook("r9", "ck2", {}, retag="c1")


@pytest.mark.parametrize("complete", [False, True])
def test_an_orphan_whose_crm_item_is_gone_is_removed_with_its_values_logged(
    complete: bool,
) -> None:
    gone = [] if complete else [("c7", None)]
    action = only(
        plan(crm_items=gone, remote_items=[remote("r9", tag="c7")], crm_complete=complete)
    )
    assert isinstance(action, Remove) and action.link is None
    assert action.remote_write == DeleteInOutlook("r9")
    assert {(c.field, c.outlook_value, c.decided_by) for c in action.conflicts} == {
        (name, value, Decider.RECOVERY) for name, value in BASE.items()
    }


def test_a_tag_naming_a_crm_item_this_run_did_not_list_waits() -> None:
    action = only(plan(remote_items=[remote("r9", tag="c7")]))
    assert isinstance(action, Skip) and "c7" in action.reason


def test_new_items_are_created_on_the_other_side_with_a_tag() -> None:
    result = plan(
        crm_items=[crm("c1", email="a@x")], remote_items=[remote("r1", email="b@x", name="B")]
    )
    writes = {
        type(a.crm_write or a.remote_write): a for a in result.actions if isinstance(a, Reconcile)
    }
    assert writes[CreateInOutlook].remote_write == CreateInOutlook(
        crm("c1", email="a@x").record, "c1"
    )
    assert isinstance(writes[CreateInCrm].crm_write, CreateInCrm)


# --- deletions -----------------------------------------------------------------------------


def test_a_deletion_of_an_unchanged_item_is_propagated() -> None:
    assert only(plan([link()], [("c1", None)])) == Remove(
        link(), remote_write=DeleteInOutlook("r1")
    )
    assert only(plan([link()], remote_items=[("r1", None)])) == Remove(
        link(), crm_write=DeleteInCrm("c1", OutlookDeleteMode.UNFLAG)
    )


def test_absence_from_a_complete_listing_is_a_deletion() -> None:
    action = only(plan([link()], [crm()], [], remote_complete=True))
    assert action == Remove(link(), crm_write=DeleteInCrm("c1", OutlookDeleteMode.UNFLAG))
    action = only(plan([link()], [], [remote()], crm_complete=True))
    assert action == Remove(link(), remote_write=DeleteInOutlook("r1"))


def test_both_sides_deleted_drops_the_link() -> None:
    assert only(plan([link()], [("c1", None)], [("r1", None)])) == Remove(link())


@pytest.mark.parametrize(
    ("deleted", "conflicts", "outcome"),
    [
        (Side.CRM, ConflictPolicy.CRM_WINS, DeleteInOutlook),
        (Side.CRM, ConflictPolicy.OUTLOOK_WINS, CreateInCrm),
        (Side.CRM, ConflictPolicy.MOST_RECENT, CreateInCrm),
        (Side.CRM, ConflictPolicy.REVIEW, Hold),
        (Side.OUTLOOK, ConflictPolicy.CRM_WINS, CreateInOutlook),
        (Side.OUTLOOK, ConflictPolicy.OUTLOOK_WINS, DeleteInCrm),
        (Side.OUTLOOK, ConflictPolicy.MOST_RECENT, CreateInOutlook),
        (Side.OUTLOOK, ConflictPolicy.REVIEW, Hold),
    ],
)
def test_a_deletion_against_an_edit_is_a_conflict(
    deleted: Side, conflicts: ConflictPolicy, outcome: type
) -> None:
    crm_items = [("c1", None)] if deleted is Side.CRM else [crm(phone="2")]
    remote_items = [("r1", None)] if deleted is Side.OUTLOOK else [remote(phone="2")]
    action = only(plan([link()], crm_items, remote_items, policy(conflicts=conflicts)))
    if outcome is Hold:
        assert isinstance(action, Hold) and action.link.held
    else:
        assert not isinstance(action, Hold | Skip)
        writes = [action.crm_write, action.remote_write]
        assert outcome in {type(write) for write in writes}
    assert not isinstance(action, Skip)
    [conflict] = action.conflicts
    assert (conflict.field, conflict.deleted_side, conflict.base_value) == ("phone", deleted, "1")
    survivor_value = conflict.outlook_value if deleted is Side.CRM else conflict.crm_value
    assert survivor_value == "2"


def test_a_recreated_crm_item_names_the_one_it_replaces() -> None:
    action = only(plan([link()], [("c1", None)], [remote(phone="2")]))
    assert isinstance(action, Reconcile)
    assert action.crm_write == CreateInCrm({**BASE, "phone": "2"}, replaces="c1")


# --- directions ----------------------------------------------------------------------------


def test_one_way_overwrites_target_edits_back_and_records_them() -> None:
    action = only(
        plan([link()], [crm(name="Anne")], [remote(phone="2")], policy(Direction.CRM_TO_OUTLOOK))
    )
    assert isinstance(action, Reconcile)
    assert action.crm_write is None
    assert action.remote_write == UpdateOutlook("r1", "ck2", {"name": "Anne", "phone": "1"})
    [conflict] = action.conflicts
    assert (conflict.field, conflict.outlook_value, conflict.applied) == ("phone", "2", Applied.CRM)
    assert conflict.decided_by is Decider.DIRECTION


@pytest.mark.parametrize(
    ("direction", "crm_side", "remote_side", "expected"),
    [
        (Direction.CRM_TO_OUTLOOK, [crm()], [("r1", None)], CreateInOutlook),
        (Direction.CRM_TO_OUTLOOK, [("c1", None)], [remote(phone="2")], DeleteInOutlook),
        (Direction.OUTLOOK_TO_CRM, [("c1", None)], [remote()], CreateInCrm),
        (Direction.OUTLOOK_TO_CRM, [crm(phone="2")], [("r1", None)], DeleteInCrm),
    ],
)
def test_one_way_repairs_target_deletions_and_propagates_source_deletions(
    direction: Direction,
    crm_side: list[CrmItem | tuple[str, None]],
    remote_side: list[RemoteItem | tuple[str, None]],
    expected: type,
) -> None:
    action = only(plan([link()], crm_side, remote_side, policy(direction)))
    assert isinstance(action, Reconcile | Remove)
    assert expected in {type(action.crm_write), type(action.remote_write)}


@pytest.mark.parametrize(
    ("direction", "skipped_crm", "skipped_remote"),
    [(Direction.CRM_TO_OUTLOOK, False, True), (Direction.OUTLOOK_TO_CRM, True, False)],
)
def test_one_way_skips_target_side_creations(
    direction: Direction, skipped_crm: bool, skipped_remote: bool
) -> None:
    result = plan(
        crm_items=[crm("c1", email="a@x")],
        remote_items=[remote("r1", email="b@x", name="B")],
        entity=policy(direction),
    )
    skips = [a for a in result.actions if isinstance(a, Skip)]
    assert [bool(s.crm_id) for s in skips] == [skipped_crm] * skipped_crm + [False] * skipped_remote
    assert len(result.actions) == 2


def test_a_one_way_field_flows_only_its_way() -> None:
    entity = policy(field_directions={"phone": Direction.CRM_TO_OUTLOOK})
    action = only(plan([link()], [crm(name="Anne")], [remote(phone="2", name="Ann")], entity))
    assert isinstance(action, Reconcile)
    assert action.target == {**BASE, "name": "Anne", "phone": "1"}


# --- mass-deletion guard -------------------------------------------------------------------


def links_and_deletions(
    linked: int, deleted: int
) -> tuple[list[LinkState], list[tuple[str, None]]]:
    links = [link(f"c{i}", f"r{i}") for i in range(linked)]
    return links, [(f"c{i}", None) for i in range(deleted)]


def test_the_guard_withholds_deletions_above_the_threshold() -> None:
    links, gone = links_and_deletions(11, 6)
    result = plan(links, [*gone, crm("c10", phone="2")])
    assert result.guard.tripped and "6 of 11" in (result.guard.reason or "")
    kinds = [type(a) for a in result.actions]
    assert kinds.count(Skip) == 6 and kinds.count(Reconcile) == 1 and Remove not in kinds


@pytest.mark.parametrize(("linked", "deleted"), [(11, 5), (10, 10)])
def test_deletions_flow_at_or_below_the_limits(linked: int, deleted: int) -> None:
    links, gone = links_and_deletions(linked, deleted)
    result = plan(links, gone)
    assert not result.guard.tripped
    assert [type(a) for a in result.actions] == [Remove] * deleted


def test_confirmed_deletions_flow() -> None:
    links, gone = links_and_deletions(20, 20)
    result = plan(links, gone, entity=policy(deletions_confirmed=True))
    assert not result.guard.tripped and len(result.actions) == 20


def test_a_side_suddenly_reporting_none_of_its_linked_items_trips_the_guard() -> None:
    links, _ = links_and_deletions(11, 0)
    edited = [remote(f"r{i}", phone="2") for i in range(11)]  # would recreate, not delete
    result = plan(links, [], edited, crm_complete=True)
    assert result.guard.tripped and "CRM side reports none" in (result.guard.reason or "")
    assert all(isinstance(a, Skip) for a in result.actions)


# --- partial success and hashes ------------------------------------------------------------


def test_after_a_partial_failure_the_base_keeps_only_what_both_sides_hold() -> None:
    action = only(plan([link()], [crm(phone="2")], [remote(name="Annie")]))
    assert isinstance(action, Reconcile)
    settled = action.settled_link(
        crm_id="c1", remote_id="r1", change_key="ck3", crm_written=False, remote_written=True
    )
    # Outlook took phone=2 (both hold it now); the CRM never got name=Annie.
    assert settled is not None and settled.base == {**BASE, "phone": "2"}
    assert settled.change_key == "ck3"


def test_a_failed_create_leaves_no_link() -> None:
    action = only(plan(crm_items=[crm("c1")]))
    assert isinstance(action, Reconcile)
    assert (
        action.settled_link(
            crm_id="c1", remote_id=None, change_key=None, crm_written=True, remote_written=False
        )
        is None
    )


def test_record_hash_is_stable_and_type_aware() -> None:
    when = datetime(2024, 5, 1, 9, 30)
    assert record_hash({"a": 1, "b": when}) == record_hash({"b": when, "a": 1})
    assert record_hash({"a": when}) != record_hash({"a": when.isoformat()})
    assert record_hash({"a": (1, 2)}) != record_hash({"a": "(1, 2)"})
    assert record_hash({"a": True}) != record_hash({"a": 1})
    assert len(record_hash({})) == 64
