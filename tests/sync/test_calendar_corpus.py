"""The recurrence and time-zone corpus: pure, table-driven, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.sync.core import recurrence, timezones
from workers.sync.core.details import CLOSING, OPENING, join_body, normalize_text, split_body

LONDON, NEW_YORK, SYDNEY = (
    ZoneInfo("Europe/London"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Sydney"),
)

RULES = [
    # (any spelling, canonical)
    ("FREQ=DAILY", "FREQ=DAILY;INTERVAL=1"),
    ("RRULE:FREQ=DAILY;INTERVAL=3;COUNT=10", "FREQ=DAILY;INTERVAL=3;COUNT=10"),
    ("FREQ=WEEKLY;BYDAY=WE,MO", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;WKST=SU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;WKST=SU"),
    ("FREQ=WEEKLY;BYDAY=MO;WKST=MO", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"),
    (
        # Exchange's day 31: the last day of shorter months.
        "FREQ=MONTHLY;BYMONTHDAY=31,30,29,28;BYSETPOS=-1;UNTIL=20241231",
        "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;UNTIL=20241231T235959",
    ),
    ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2", "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR"),
    (
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=MONTHLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    ),
    ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=10", "FREQ=YEARLY;INTERVAL=1;BYMONTH=3;BYMONTHDAY=10"),
    (
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=3",
        "FREQ=YEARLY;INTERVAL=1;BYMONTH=11;BYDAY=4TH;COUNT=3",
    ),
]


@pytest.mark.parametrize(("spelling", "canonical"), RULES)
def test_every_pattern_and_end_kind_normalizes_and_round_trips(
    spelling: str, canonical: str
) -> None:
    assert recurrence.normalize_rule(spelling) == canonical
    assert recurrence.format_rule(recurrence.parse_rule(canonical)) == canonical


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY",
        "FREQ=MONTHLY;BYDAY=5MO",
        "FREQ=YEARLY;INTERVAL=2;BYMONTHDAY=1",
        "FREQ=MONTHLY;BYMONTHDAY=31",  # skips shorter months; Exchange moves to their last day
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    ],
)
def test_rules_exchange_cannot_express_are_refused(rule: str) -> None:
    with pytest.raises(recurrence.RecurrenceError):
        recurrence.parse_rule(rule)


def test_exdates_live_beside_the_rule() -> None:
    deleted = (datetime(2024, 4, 8, 8, tzinfo=UTC), datetime(2024, 4, 1, 8, tzinfo=UTC))
    text = recurrence.compose_rule_text("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO", sorted(deleted))
    assert text == "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO\nEXDATE:20240401T080000Z,20240408T080000Z"
    assert recurrence.split_rule_text(text) == (
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO",
        tuple(sorted(deleted)),
    )
    all_day = recurrence.compose_rule_text("FREQ=DAILY;INTERVAL=1", ["2024-04-02"])
    assert recurrence.split_rule_text(all_day)[1] == ("2024-04-02",)


# Weekly 09:00 local meetings across each zone's DST change: the wall clock stays, UTC moves.
DST = [
    (LONDON, datetime(2024, 3, 25, 9, tzinfo=LONDON), [9, 8]),  # spring forward 31 March
    (LONDON, datetime(2024, 10, 21, 9, tzinfo=LONDON), [8, 9]),  # fall back 27 October
    (NEW_YORK, datetime(2024, 3, 4, 9, tzinfo=NEW_YORK), [14, 13]),  # 10 March
    (NEW_YORK, datetime(2024, 10, 28, 9, tzinfo=NEW_YORK), [13, 14]),  # 3 November
    (SYDNEY, datetime(2024, 3, 31, 9, tzinfo=SYDNEY), [22, 23]),  # fall back 7 April
    (SYDNEY, datetime(2024, 9, 30, 9, tzinfo=SYDNEY), [23, 22]),  # spring forward 6 October
]


@pytest.mark.parametrize(("zone", "first", "utc_hours"), DST)
def test_series_keep_their_wall_clock_across_dst(
    zone: ZoneInfo, first: datetime, utc_hours: list[int]
) -> None:
    starts = list(recurrence.occurrence_starts("FREQ=WEEKLY;INTERVAL=1;COUNT=2", first, zone))
    assert [s.hour for s in starts if isinstance(s, datetime)] == utc_hours
    assert all(isinstance(s, datetime) and s.astimezone(zone).hour == 9 for s in starts)
    assert recurrence.instance_index("FREQ=WEEKLY;INTERVAL=1;COUNT=2", first, zone, starts[1]) == 2


def test_a_series_that_started_before_the_window_finds_late_instances() -> None:
    first = datetime(2020, 1, 6, 9, tzinfo=LONDON)
    original = datetime(2024, 7, 1, 8, tzinfo=UTC)  # 09:00 BST
    index = recurrence.instance_index("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO", first, LONDON, original)
    assert index == 235


def test_all_day_series_expand_as_dates() -> None:
    starts = recurrence.occurrence_starts(
        "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=3",
        date(2024, 1, 31),
        SYDNEY,
    )
    assert list(starts) == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]


@pytest.mark.parametrize(
    ("naive", "zone", "utc"),
    [
        (datetime(2024, 3, 31, 0, 30), LONDON, datetime(2024, 3, 31, 0, 30, tzinfo=UTC)),
        (datetime(2024, 3, 31, 2, 30), LONDON, datetime(2024, 3, 31, 1, 30, tzinfo=UTC)),
        (datetime(2024, 10, 27, 1, 30), LONDON, datetime(2024, 10, 27, 0, 30, tzinfo=UTC)),
        (datetime(2024, 11, 3, 1, 30), NEW_YORK, datetime(2024, 11, 3, 5, 30, tzinfo=UTC)),
        (datetime(2024, 4, 7, 2, 30), SYDNEY, datetime(2024, 4, 6, 15, 30, tzinfo=UTC)),
    ],
)
def test_crm_datetimes_in_the_crm_zone(naive: datetime, zone: ZoneInfo, utc: datetime) -> None:
    assert timezones.utc_from_crm(naive, zone) == utc
    back = timezones.crm_from_utc(utc, zone)
    assert back is not None and timezones.utc_from_crm(back, zone) == utc


def test_all_day_items_keep_their_dates_whatever_the_zones() -> None:
    start, end = timezones.crm_from_all_day("2024-03-30", "2024-04-01")
    assert (start, end) == (datetime(2024, 3, 30), datetime(2024, 4, 2))
    assert timezones.all_day_from_crm(start, end) == ("2024-03-30", "2024-04-01")
    assert timezones.all_day_from_crm(datetime(2024, 3, 30), datetime(2024, 3, 30, 23, 59)) == (
        "2024-03-30",
        "2024-03-30",
    )


def test_a_crm_zone_other_than_the_users_moves_task_dates_correctly() -> None:
    # CRM server in New York, user in Sydney: a Sydney date round-trips through CRM naive time.
    naive = timezones.crm_from_date("2024-04-07", SYDNEY, NEW_YORK)
    assert naive == datetime(2024, 4, 6, 9, 0)  # Sydney midnight is still AEDT (+11)
    assert timezones.date_in_zone(timezones.utc_from_crm(naive, NEW_YORK), SYDNEY) == "2024-04-07"


bodies = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(note=bodies, details=bodies, trips=st.integers(1, 5))
def test_the_details_block_never_reaches_the_note(note: str, details: str, trips: int) -> None:
    expected = normalize_text(note.replace(OPENING, "").replace(CLOSING, ""))
    current = expected
    for _ in range(trips):
        body = join_body(current, normalize_text(details.replace(OPENING, "").replace(CLOSING, "")))
        current, _ = split_body(body)
    assert current == expected
    assert OPENING not in (current or "")


def test_a_block_without_its_closing_line_runs_to_the_end() -> None:
    assert split_body(f"Note\n{OPENING}\nCompany: Acme") == ("Note", "Company: Acme")
    assert split_body(f"{OPENING}\nx\n{CLOSING}\nafter") == ("after", "x")
