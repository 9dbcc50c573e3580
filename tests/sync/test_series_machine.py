"""The state machine of test_state_machine.py over records shaped like appointments and tasks.

A series record carries its pattern, its deleted occurrences and its modified occurrences as
tuples, as workers.sync.appointments.mapping builds them; users on both sides move or rename an
occurrence, delete one, change the pattern, or change a task's status. The invariants (no
duplicates, no echoes, agreement, nothing overwritten unrecorded) are the base machine's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from tests.sync import test_state_machine as base
from workers.sync.core.planner import Value

FIRST = datetime(2024, 3, 25, 8, tzinfo=UTC)
ORIGINALS = tuple(FIRST + timedelta(weeks=n) for n in range(4))
RULES = ("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=4", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", None)
STATUSES = ("Pending", "In Progress", "Complete", "Cancelled")

occurrence = st.builds(
    lambda original, shift, subject: (
        original,
        original + timedelta(hours=shift),
        original + timedelta(hours=shift + 1),
        subject,
        None,
    ),
    st.sampled_from(ORIGINALS),
    st.integers(-2, 2),
    st.sampled_from([None, "moved", "renamed"]),
)


def _unique(values: list[tuple[Value, ...]]) -> tuple[Value, ...]:
    by_original = {value[0]: value for value in values}
    return tuple(by_original[key] for key in sorted(by_original, key=str))


FIELDS: dict[str, st.SearchStrategy[Value]] = {
    "subject": st.sampled_from(["Weekly sync", "Review", "Call"]),
    "recurrence": st.sampled_from(RULES),
    "exdates": st.lists(st.sampled_from(ORIGINALS), max_size=2).map(
        lambda values: tuple(sorted(set(values)))
    ),
    "occurrences": st.lists(occurrence, max_size=2).map(_unique),
    "status": st.sampled_from(STATUSES),
    "attendees": st.lists(st.sampled_from(["ann@x.test", "bob@x.test"]), max_size=2).map(
        lambda values: tuple(sorted(set(values)))
    ),
}


class SeriesMachine(base.SyncMachine):
    def new_record(self, data: st.DataObject) -> dict[str, Value]:
        record: dict[str, Value] = {"uid": f"s{next(self.uids)}", "start": FIRST, "end": FIRST}
        record.update({name: data.draw(strategy) for name, strategy in FIELDS.items()})
        return record

    @precondition(lambda self: self.world.crm.live_ids())
    @rule(data=st.data())
    def edit_in_crm(self, data: st.DataObject) -> None:
        crm_id = data.draw(st.sampled_from(self.world.crm.live_ids()))
        name = data.draw(st.sampled_from(sorted(FIELDS)))
        self.world.crm.user_edit(crm_id, {name: data.draw(FIELDS[name])})

    @precondition(lambda self: self.world.exchange.live_ids())
    @rule(data=st.data())
    def edit_in_outlook(self, data: st.DataObject) -> None:
        remote_id = data.draw(st.sampled_from(self.world.exchange.live_ids()))
        name = data.draw(st.sampled_from(sorted(FIELDS)))
        self.world.exchange.user_edit(remote_id, {name: data.draw(FIELDS[name])})


SeriesMachine.TestCase.settings = base.PROFILE
TestSeriesMachine = SeriesMachine.TestCase
