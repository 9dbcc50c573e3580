"""The planner and executor against in-memory fakes of both sides, driven by hypothesis.

Users create, edit, delete, unflag and re-flag items on both sides between runs; runs fail
item by item, die half-way, list incrementally or completely, or start over without state.
Whatever happens, once runs go on without failures the two sides settle into agreement with
no duplicates, no dangling links, no echoes, and no value overwritten without a record.

HYPOTHESIS_PROFILE=long runs many more and longer examples.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Hashable, Sequence
from dataclasses import replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
)

from tests.sync.fakes import RunOutcome, World
from workers.sync.core.engine import RunStatus
from workers.sync.core.planner import (
    ConflictPolicy,
    Direction,
    EntityPolicy,
    OutlookDeleteMode,
    Record,
    Value,
)
from workers.sync.core.records import is_empty

settings.register_profile("ci", max_examples=75, stateful_step_count=30, deadline=None)
settings.register_profile("long", max_examples=1000, stateful_step_count=60, deadline=None)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

EDITABLE = ("email", "name", "note")
VALUES: dict[str, Sequence[Value]] = {
    "email": ("ann@example.test", "bob@example.test", None, ""),
    "name": ("Ann", "Bob", "Cy"),
    "note": ("", "first", "second", "third", None),
}


def match_keys(record: Record) -> Sequence[Hashable | None]:
    # The uid comes first so a state reset pairs every synchronized item again; ambiguity and
    # fall-through between keys are covered by the planner's unit tests.
    email = record.get("email")
    return [("uid", record.get("uid")), ("email", email) if email else None, record.get("name")]


def values(name: str) -> st.SearchStrategy[Value]:
    return st.sampled_from(VALUES[name])


class SyncMachine(RuleBasedStateMachine):
    world: World

    @initialize(
        direction=st.sampled_from(Direction),
        conflict_policy=st.sampled_from(ConflictPolicy),
        on_outlook_delete=st.sampled_from(OutlookDeleteMode),
        seed=st.integers(0, 2**16),
    )
    def start(
        self,
        direction: Direction,
        conflict_policy: ConflictPolicy,
        on_outlook_delete: OutlookDeleteMode,
        seed: int,
    ) -> None:
        policy = EntityPolicy(
            direction,
            conflict_policy,
            on_outlook_delete,
            match_keys,
            mass_delete_threshold=0.5,
            mass_delete_minimum=3,
        )
        self.world = World(policy, seed)
        self.uids = itertools.count()
        self.unflagged: set[str] = set()  # may be flagged again
        self.rebuilding = False  # links lost, not yet rebuilt by a complete run

    def new_record(self, data: st.DataObject) -> dict[str, Value]:
        record: dict[str, Value] = {"uid": f"u{next(self.uids)}"}
        record.update({name: data.draw(values(name)) for name in EDITABLE})
        return record

    # --- users ----------------------------------------------------------------------------

    @rule(data=st.data())
    def create_in_crm(self, data: st.DataObject) -> None:
        self.world.crm.user_create(self.new_record(data))

    @rule(data=st.data())
    def create_in_outlook(self, data: st.DataObject) -> None:
        self.world.exchange.user_create(self.new_record(data))

    @precondition(lambda self: self.world.crm.live_ids())
    @rule(data=st.data())
    def edit_in_crm(self, data: st.DataObject) -> None:
        crm_id = data.draw(st.sampled_from(self.world.crm.live_ids()))
        name = data.draw(st.sampled_from(EDITABLE))
        self.world.crm.user_edit(crm_id, {name: data.draw(values(name))})

    @precondition(lambda self: self.world.exchange.live_ids())
    @rule(data=st.data())
    def edit_in_outlook(self, data: st.DataObject) -> None:
        remote_id = data.draw(st.sampled_from(self.world.exchange.live_ids()))
        name = data.draw(st.sampled_from(EDITABLE))
        self.world.exchange.user_edit(remote_id, {name: data.draw(values(name))})

    @precondition(lambda self: self.world.crm.live_ids())
    @rule(data=st.data())
    def delete_or_unflag_in_crm(self, data: st.DataObject) -> None:
        crm_id = data.draw(st.sampled_from(self.world.crm.live_ids()))
        self.world.crm.user_set_live(crm_id, False)
        if not self.rebuilding:
            self.unflagged.add(crm_id)

    @precondition(lambda self: self.unflagged)
    @rule(data=st.data())
    def flag_again_in_crm(self, data: st.DataObject) -> None:
        crm_id = data.draw(st.sampled_from(sorted(self.unflagged)))
        self.unflagged.remove(crm_id)
        self.world.crm.user_set_live(crm_id, True)

    @precondition(lambda self: self.world.exchange.live_ids())
    @rule(data=st.data())
    def delete_in_outlook(self, data: st.DataObject) -> None:
        self.world.exchange.user_delete(data.draw(st.sampled_from(self.world.exchange.live_ids())))

    # --- runs and administrators ------------------------------------------------------------

    @rule(
        crm_full=st.booleans(),
        exchange_full=st.booleans(),
        confirm_deletions=st.booleans(),
        fail_rate=st.sampled_from([0.0, 0.0, 0.3]),
        crash_after=st.none() | st.integers(0, 25),
    )
    def sync(
        self,
        crm_full: bool,
        exchange_full: bool,
        confirm_deletions: bool,
        fail_rate: float,
        crash_after: int | None,
    ) -> None:
        outcome = self.world.run(
            crm_full=crm_full,
            exchange_full=exchange_full,
            confirm_deletions=confirm_deletions,
            fail_rate=fail_rate,
            crash_after=crash_after,
        )
        self.check_overwrites_are_recorded(outcome)
        if outcome.result is not None and outcome.result.may_advance_sync_state:
            self.rebuilding = False

    @rule()
    def lose_sync_state(self) -> None:
        # A person out of scope while the state is rebuilt cannot be matched, so flagging it
        # again afterwards would rightly make a second copy: the model keeps such rows gone.
        self.unflagged.clear()
        self.rebuilding = True
        self.world.reset_state()

    @rule(take_crm=st.booleans())
    def resolve_held_conflicts(self, take_crm: bool) -> None:
        """An administrator picks one side's version of every held item."""
        world = self.world
        for link in list(world.links.values()):
            if not link.held or link.pending:
                continue
            crm_item, remote_item = world.crm.item(link.crm_id), world.exchange.item(link.remote_id)
            chosen = [crm_item, remote_item] if take_crm else [remote_item, crm_item]
            present = [item.record for item in chosen if item is not None]
            pending = dict(present[0]) if present else {"note": None}
            world.db.working.links[link.crm_id] = replace(link, pending=pending)
        world.db.commit()

    # --- invariants -------------------------------------------------------------------------

    def check_overwrites_are_recorded(self, outcome: RunOutcome) -> None:
        """Every value sync overwrote or deleted was either the last synced one or is logged."""
        world = self.world
        by_remote = {link.remote_id: link for link in outcome.links_before.values()}
        logged = {
            (side, item_id, conflict.field, repr(value))
            for conflict in world.db.committed.conflicts
            for side, item_id, value in (
                ("crm", conflict.crm_id, conflict.crm_value),
                ("outlook", conflict.remote_id, conflict.outlook_value),
            )
        }
        for overwrite in outcome.overwrites:
            if overwrite.side == "crm":
                link = outcome.links_before.get(overwrite.item_id)
            else:
                tag = world.exchange.items[overwrite.item_id].tag
                link = by_remote.get(overwrite.item_id) or outcome.links_before.get(tag or "")
            base = link.base if link else {}
            after = overwrite.after or {}
            for name, old in overwrite.before.items():
                if overwrite.after is not None and after.get(name) == old:
                    continue
                if (name in base and base[name] == old) or (name not in base and is_empty(old)):
                    continue
                key = (overwrite.side, overwrite.item_id, name, repr(old))
                assert key in logged, f"{key} overwritten without a conflict record"

    def settle(self) -> None:
        for _ in range(8):
            self.resolve_held_conflicts(take_crm=True)
            outcome = self.world.run(confirm_deletions=True)
            self.check_overwrites_are_recorded(outcome)
            assert outcome.result is not None
            assert outcome.result.status is RunStatus.SUCCESS, outcome.result.journal.entries
            if not outcome.plan.writes_anything:
                return
        raise AssertionError(f"runs did not settle: {outcome.plan.actions}")

    def teardown(self) -> None:
        if not hasattr(self, "world"):
            return
        world = self.world
        self.settle()
        crm_ids, remote_ids = set(world.crm.live_ids()), set(world.exchange.live_ids())
        for link in world.links.values():
            assert link.crm_id in crm_ids, f"link to a missing CRM item: {link}"
            assert link.remote_id in remote_ids, f"link to a missing Outlook item: {link}"
            crm_item, remote_item = world.crm.item(link.crm_id), world.exchange.item(link.remote_id)
            assert crm_item is not None and remote_item is not None
            assert crm_item.record == remote_item.record == link.base, link
            assert not link.held and not link.pending
        # Matching after a state reset may legitimately pair a user's look-alike item, so
        # duplicates are judged among linked items, and by tags for what sync itself created.
        for side, items in (
            ("CRM", [world.crm.item(link.crm_id) for link in world.links.values()]),
            ("Outlook", [world.exchange.item(link.remote_id) for link in world.links.values()]),
        ):
            uids = [item.record["uid"] for item in items if item is not None]
            assert len(uids) == len(set(uids)), f"duplicates in the {side}: {sorted(uids)}"
        linked_remote = {link.remote_id for link in world.links.values()}
        for remote_id in remote_ids - linked_remote:
            tag = world.exchange.items[remote_id].tag
            assert tag not in world.links, f"{remote_id} duplicates the item linked to {tag}"
        direction = world.policy.direction
        if direction is not Direction.OUTLOOK_TO_CRM:
            assert crm_ids == {link.crm_id for link in world.links.values()}, "CRM item unsynced"
        if direction is not Direction.CRM_TO_OUTLOOK:
            assert remote_ids == linked_remote, "Outlook item unsynced"
        for full in (False, True):
            extra = world.run(crm_full=full, exchange_full=full)
            assert not extra.plan.writes_anything, f"echo or drift: {extra.plan.actions}"


SyncMachine.TestCase.settings = PROFILE
TestSyncMachine = SyncMachine.TestCase
