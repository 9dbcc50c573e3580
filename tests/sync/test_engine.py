from __future__ import annotations

import math
from collections.abc import Sequence

from tests.sync.fakes import Crash, FakeExchange, SideError, World
from workers.sync.core.engine import (
    ActionKind,
    EntryLevel,
    ExecutionResult,
    Outcome,
    RemoteCreated,
    RunStatus,
    execute_plan,
)
from workers.sync.core.planner import (
    ConflictPolicy,
    CreateInOutlook,
    Direction,
    EntityPolicy,
    OutlookDeleteMode,
    Record,
    plan_sync,
)
from workers.sync.core.records import Value


def email_key(record: Record) -> list[Value]:
    return [record.get("email")]


def world(conflicts: ConflictPolicy = ConflictPolicy.MOST_RECENT) -> World:
    policy = EntityPolicy(Direction.BOTH, conflicts, OutlookDeleteMode.UNFLAG, email_key)
    return World(policy)


def contact(number: int, note: str = "") -> dict[str, Value]:
    return {"email": f"person{number}@example.test", "name": f"Person {number}", "note": note}


def add_crm_contacts(target: World, count: int) -> None:
    target.crm.user_create(*(contact(number) for number in range(count)))


def finished(result: ExecutionResult | None) -> ExecutionResult:
    assert result is not None
    return result


def test_a_first_sync_of_5000_contacts_stays_within_the_request_budget() -> None:
    target = world()
    add_crm_contacts(target, 5000)
    result = finished(target.run().result)
    assert result.status is RunStatus.SUCCESS
    assert len(target.links) == len(target.exchange.live_ids()) == 5000
    minimum = math.ceil(5000 / 100)
    assert target.exchange.requests <= 1.2 * minimum
    assert result.journal.counts[Direction.CRM_TO_OUTLOOK, Outcome.CREATED] == 5000


class FailingFor(FakeExchange):
    """Exchange refusing to create the items for some CRM ids."""

    refused: frozenset[str] = frozenset()

    def create_many(self, items: Sequence[CreateInOutlook]) -> list[RemoteCreated | Exception]:
        accepted = [write for write in items if write.tag not in self.refused]
        created = iter(super().create_many(accepted))
        return [
            SideError("ErrorQuotaExceeded") if write.tag in self.refused else next(created)
            for write in items
        ]


def test_one_failed_item_is_logged_while_the_others_go_on_and_are_retried_later() -> None:
    target = world()
    failing = FailingFor(target.clock, target.faults)
    failing.refused = frozenset({"c2"})
    target.exchange = failing
    add_crm_contacts(target, 3)

    result = finished(target.run().result)
    assert result.status is RunStatus.SUCCESS_WITH_ERRORS
    assert not result.may_advance_sync_state
    assert set(target.links) == {"c1", "c3"}
    [error] = [entry for entry in result.journal.entries if entry.level is EntryLevel.ERROR]
    assert (error.crm_id, error.action) == ("c2", ActionKind.CREATE_IN_OUTLOOK)
    assert result.journal.counts[Direction.CRM_TO_OUTLOOK, Outcome.ERRORS] == 1

    failing.refused = frozenset()
    assert finished(target.run().result).status is RunStatus.SUCCESS
    assert set(target.links) == {"c1", "c2", "c3"}
    assert len(target.exchange.live_ids()) == 3


def test_a_run_killed_after_exchange_writes_resumes_without_duplicates() -> None:
    target = world()
    add_crm_contacts(target, 150)
    # Batch one: 100 creates and a commit; batch two dies at its commit, its 50 creates made.
    assert target.run(crash_after=151).result is None
    assert len(target.links) == 100
    assert len(target.exchange.live_ids()) == 150

    outcome = target.run()
    assert finished(outcome.result).status is RunStatus.SUCCESS
    assert len(target.links) == len(target.exchange.live_ids()) == 150
    assert not target.run().plan.writes_anything


def test_the_tag_look_up_adopts_an_item_an_interrupted_run_created() -> None:
    target = world()
    [crm_id] = target.crm.user_create(contact(1, note="current"))
    remote_id = target.exchange.user_create(contact(1, note="older"))
    target.exchange.items[remote_id].tag = crm_id
    crm_item = target.crm.item(crm_id)
    assert crm_item is not None
    # The Outlook listing missed the item (incomplete), so only the executor can find it.
    plan = plan_sync([], {crm_id: crm_item}, {}, target.policy)
    result = execute_plan(plan, target.crm, target.exchange, target.store)

    assert result.status is RunStatus.SUCCESS
    assert target.exchange.live_ids() == [remote_id]
    assert target.exchange.items[remote_id].record["note"] == "current"
    assert target.links[crm_id].remote_id == remote_id
    [conflict] = target.db.committed.conflicts
    assert (conflict.field, conflict.crm_value, conflict.outlook_value) == (
        "note",
        "current",
        "older",
    )


def test_a_complete_listing_needs_no_tag_look_up() -> None:
    target = world()
    add_crm_contacts(target, 3)
    target.run(exchange_full=True)
    assert target.exchange.requests == 1  # one create_many, no find_by_tags


def test_conflict_records_are_kept_before_the_values_are_overwritten() -> None:
    target = world(ConflictPolicy.CRM_WINS)
    add_crm_contacts(target, 1)
    target.run()
    target.crm.user_edit("c1", {"note": "crm"})
    [remote_id] = target.exchange.live_ids()
    target.exchange.user_edit(remote_id, {"note": "outlook"})

    # Operation one commits the conflict record; the process dies at the Exchange update.
    assert target.run(crash_after=1).result is None
    [conflict] = target.db.committed.conflicts
    assert (conflict.crm_value, conflict.outlook_value) == ("crm", "outlook")


def test_a_stop_request_interrupts_between_batches_keeping_finished_ones() -> None:
    target = world()
    add_crm_contacts(target, 250)
    links = dict(target.links)
    crm_changes, _ = target.crm.listing(None)
    plan = plan_sync(links.values(), crm_changes, {}, target.policy, crm_complete=True)
    batches = iter([False, True])
    result = execute_plan(
        plan, target.crm, target.exchange, target.store, should_stop=lambda: next(batches)
    )
    assert result.status is RunStatus.INTERRUPTED
    assert not result.may_advance_sync_state
    assert len(target.links) == 100


def test_a_tripped_guard_keeps_the_sync_state_for_the_next_run() -> None:
    target = world()
    add_crm_contacts(target, 12)
    target.run()
    mark = target.crm_mark
    for crm_id in list(target.links)[:8]:
        target.crm.user_set_live(crm_id, False)

    result = finished(target.run().result)
    assert result.status is RunStatus.SUCCESS and not result.may_advance_sync_state
    assert target.crm_mark == mark and len(target.exchange.live_ids()) == 12
    assert any(entry.action is ActionKind.GUARD for entry in result.journal.entries)

    finished(target.run(confirm_deletions=True).result)
    assert len(target.exchange.live_ids()) == 4


def test_a_failed_commit_fails_the_run() -> None:
    target = world()
    add_crm_contacts(target, 1)

    def broken_commit() -> None:
        raise SideError("database went away")

    target.store.commit = broken_commit  # type: ignore[method-assign]
    result = finished(target.run().result)
    assert result.status is RunStatus.FAILED
    assert target.links == {}


def test_the_crash_signal_is_not_swallowed() -> None:
    target = world()
    add_crm_contacts(target, 1)
    links = dict(target.links)
    crm_changes, _ = target.crm.listing(None)
    plan = plan_sync(links.values(), crm_changes, {}, target.policy, crm_complete=True)
    target.faults.crash_after = 0
    try:
        execute_plan(plan, target.crm, target.exchange, target.store)
    except Crash:
        return
    raise AssertionError("a crash must end the run")


def test_counts_follow_the_direction_of_each_write() -> None:
    target = world()
    add_crm_contacts(target, 2)
    target.exchange.user_create(contact(9))
    result = finished(target.run().result)
    counts = result.journal.counts
    assert counts[Direction.CRM_TO_OUTLOOK, Outcome.CREATED] == 2
    assert counts[Direction.OUTLOOK_TO_CRM, Outcome.CREATED] == 1
    [remote_id] = [i for i in target.exchange.live_ids() if target.exchange.items[i].tag is None]
    target.exchange.user_edit(remote_id, {"note": "changed"})
    target.crm.user_set_live("c1", False)
    result = finished(target.run().result)
    assert result.journal.counts[Direction.OUTLOOK_TO_CRM, Outcome.UPDATED] == 1
    assert result.journal.counts[Direction.CRM_TO_OUTLOOK, Outcome.DELETED] == 1
