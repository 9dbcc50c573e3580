"""RRULEs written to Exchange as patterns, and read back as occurrences through CalendarView.

The simulator expands series on its own (no dateutil), so agreement between its CalendarView
and dateutil's expansion of the original rule shows the mapping keeps each series' meaning.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from exchangelib import (
    DELEGATE,
    Account,
    Build,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    Version,
)
from hypothesis import HealthCheck, given, settings

from ews_simulator.testing import SimulatorServer
from tests.sync.test_rrule_rfc5545 import (
    EXAMPLES,
    HORIZON,
    NEW_YORK,
    REPRESENTABLE,
    _ny,
    _rules,
    _starts,
)
from workers.connectors.ews.calendar import pattern_to_exchange
from workers.sync.core import recurrence

ZONE = EWSTimeZone.from_zoneinfo(NEW_YORK)


@pytest.fixture
def outlook(simulator: SimulatorServer) -> Account:
    config = Configuration(
        service_endpoint=simulator.ews_url,
        credentials=Credentials("jane@example.com", "secret"),
        auth_type="basic",
        version=Version(build=Build(15, 1, 2507, 6)),
    )
    return Account("jane@example.com", config=config, autodiscover=False, access_type=DELEGATE)


def _exchange_starts(outlook: Account, rule: str, start: datetime) -> list[datetime]:
    """The series' occurrences over two years as Exchange's CalendarView lists them."""
    pattern = recurrence.parse_rule(rule, start)
    item = CalendarItem(
        account=outlook,
        folder=outlook.calendar,
        subject=rule,
        start=EWSDateTime.from_datetime(start).astimezone(ZONE),
        end=EWSDateTime.from_datetime(start + timedelta(hours=1)).astimezone(ZONE),
        recurrence=pattern_to_exchange(pattern, start.date()),
    )
    item.save()
    try:
        view = outlook.calendar.view(
            start=EWSDateTime.from_datetime(start).astimezone(ZONE),
            end=EWSDateTime.from_datetime(start + HORIZON).astimezone(ZONE),
        ).only("start")
        return sorted(o.start.astimezone(NEW_YORK).replace(tzinfo=None) for o in view)
    finally:
        item.delete()


def _rule_starts(rule: str, start: datetime) -> list[datetime]:
    """dateutil's expansion, less an occurrence at the very end of the view: CalendarView
    lists the items that overlap it, and one starting at its end does not."""
    end = (start + HORIZON).replace(tzinfo=None)
    return [moment for moment in _starts(rule, start) if moment < end]


@pytest.mark.parametrize(("dtstart", "rule"), REPRESENTABLE)
def test_rfc_examples_occur_in_exchange_as_the_rule_says(
    outlook: Account, dtstart: str, rule: str
) -> None:
    start = _ny(dtstart)
    assert _exchange_starts(outlook, rule, start) == _rule_starts(rule, start)


@settings(
    max_examples=EXAMPLES // 4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rule=_rules())
def test_generated_rules_occur_in_exchange_as_the_rule_says(outlook: Account, rule: str) -> None:
    start = _ny("20240612T093000")
    try:
        recurrence.parse_rule(rule, start)
    except recurrence.RecurrenceError:
        return  # refusals are the pure tests' subject
    bare = rule.split(":", 1)[1] if rule.upper().startswith("RRULE:") else rule
    assert _exchange_starts(outlook, bare, start) == _rule_starts(bare, start), rule
