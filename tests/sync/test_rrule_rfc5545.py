"""RRULEs as RFC 5545 writes them: every example of §3.8.5.3, and generated rules.

A rule Exchange can represent must mean the same series after mapping: the canonical rule that
crmsync stores and writes to Exchange expands (dateutil) to the very occurrences the original
rule expands to over two years. A rule Exchange cannot represent is refused with a reason.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.sync.core import recurrence

NEW_YORK = ZoneInfo("America/New_York")
HORIZON = timedelta(days=731)
# HYPOTHESIS_PROFILE=long (scripts and nightly runs) tries many more generated rules than CI.
EXAMPLES = 3000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 150


def _starts(rule: str, dtstart: datetime) -> list[datetime]:
    """Local wall-clock starts within two years of DTSTART; the series is floating local time
    unless its UNTIL is in UTC, which dateutil then reads against the aware DTSTART."""
    if not rule.upper().rstrip(";").endswith("Z") and "Z;" not in rule.upper():
        return _canonical_starts(rule, dtstart)
    aware = rrulestr(rule, dtstart=dtstart, forceset=True)
    starts = aware.between(dtstart, dtstart + HORIZON, inc=True)
    return [start.replace(tzinfo=None) for start in starts]


def _canonical_starts(canonical: str, dtstart: datetime) -> list[datetime]:
    local = dtstart.replace(tzinfo=None)
    expansion = rrulestr(canonical, dtstart=local, forceset=True)
    return list(expansion.between(local, local + HORIZON, inc=True))


def _assert_same_series(rule: str, dtstart: datetime) -> None:
    canonical = recurrence.normalize_rule(rule, dtstart)
    assert _canonical_starts(canonical, dtstart) == _starts(rule, dtstart), canonical
    # The canonical text is a fixed point: it needs no DTSTART to be read again.
    assert recurrence.normalize_rule(canonical) == canonical


def _ny(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=NEW_YORK)


# (DTSTART, RRULE) of RFC 5545 §3.8.5.3 that Exchange can represent.
REPRESENTABLE = [
    ("19970902T090000", "FREQ=DAILY;COUNT=10"),
    ("19970902T090000", "FREQ=DAILY;UNTIL=19971224T000000Z"),
    ("19970902T090000", "FREQ=DAILY;INTERVAL=2"),
    ("19970902T090000", "FREQ=DAILY;INTERVAL=10;COUNT=5"),
    ("19970902T090000", "FREQ=WEEKLY;COUNT=10"),
    ("19970902T090000", "FREQ=WEEKLY;UNTIL=19971224T000000Z"),
    ("19970902T090000", "FREQ=WEEKLY;INTERVAL=2;WKST=SU"),
    ("19970902T090000", "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH"),
    ("19970902T090000", "FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH"),
    ("19970901T090000", "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR"),
    ("19970902T090000", "FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH"),
    ("19970905T090000", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR"),
    ("19970905T090000", "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR"),
    ("19970805T090000", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"),
    ("19970805T090000", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"),
]

# (DTSTART, RRULE, a word of the reason) of RFC 5545 §3.8.5.3 that Exchange cannot represent.
UNREPRESENTABLE = [
    (
        "19980101T090000",
        "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
        "YEARLY",
    ),
    ("19980101T090000", "FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1", "months"),
    ("19970907T090000", "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU", "mixed"),
    ("19970922T090000", "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", "week number"),
    ("19970928T090000", "FREQ=MONTHLY;BYMONTHDAY=-3", "BYMONTHDAY"),
    ("19970902T090000", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15", "BYMONTHDAY"),
    ("19970930T090000", "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1", "BYMONTHDAY"),
    (
        "19970910T090000",
        "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
        "BYMONTHDAY",
    ),
    ("19970902T090000", "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU", "MONTHLY"),
    ("19970610T090000", "FREQ=YEARLY;COUNT=10;BYMONTH=6,7", "BYMONTH"),
    ("19970310T090000", "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3", "BYMONTH"),
    ("19970101T090000", "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200", "BYYEARDAY"),
    ("19970519T090000", "FREQ=YEARLY;BYDAY=20MO", "week number"),
    ("19970512T090000", "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "BYWEEKNO"),
    ("19970313T090000", "FREQ=YEARLY;BYMONTH=3;BYDAY=TH", "YEARLY"),
    ("19970605T090000", "FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8", "BYMONTH"),
    ("19970902T090000", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "MONTHLY"),
    ("19970913T090000", "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13", "BYMONTHDAY"),
    (
        "19961105T090000",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
        "BYMONTHDAY",
    ),
    ("19970904T090000", "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", "day group"),
    ("19970929T090000", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2", "week number"),
    ("19970902T090000", "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z", "HOURLY"),
    ("19970902T090000", "FREQ=MINUTELY;INTERVAL=15;COUNT=6", "MINUTELY"),
    ("19970902T090000", "FREQ=MINUTELY;INTERVAL=90;COUNT=4", "MINUTELY"),
    ("19970902T090000", "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40", "BYHOUR"),
    ("19970902T090000", "FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16", "BYHOUR"),
    ("20070115T090000", "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", "BYMONTHDAY"),
]


@pytest.mark.parametrize(("dtstart", "rule"), REPRESENTABLE)
def test_rfc_examples_exchange_can_represent_keep_their_occurrences(
    dtstart: str, rule: str
) -> None:
    _assert_same_series(rule, _ny(dtstart))


@pytest.mark.parametrize(("dtstart", "rule", "reason"), UNREPRESENTABLE)
def test_rfc_examples_exchange_cannot_represent_say_why(
    dtstart: str, rule: str, reason: str
) -> None:
    with pytest.raises(recurrence.RecurrenceError, match=reason):
        recurrence.parse_rule(rule, _ny(dtstart))


@pytest.mark.parametrize(
    ("rule", "canonical"),
    [
        # RFC 5545's defaults come from DTSTART, Tuesday 2 September 1997.
        ("FREQ=WEEKLY;COUNT=5", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=5"),
        ("FREQ=MONTHLY", "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=2"),
        ("FREQ=YEARLY", "FREQ=YEARLY;INTERVAL=1;BYMONTH=9;BYMONTHDAY=2"),
        ("FREQ=YEARLY;BYMONTH=3", "FREQ=YEARLY;INTERVAL=1;BYMONTH=3;BYMONTHDAY=2"),
        ("rrule:freq=weekly;count=5", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=5"),
        # Every weekday, spelled daily: Exchange's weekly pattern.
        ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR"),
        # Exchange moves days 29-31 to the last day of shorter months; RFC 5545 says so thus.
        (
            "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
            "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
        ),
        ("FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31", "FREQ=YEARLY;INTERVAL=1;BYMONTH=1;BYMONTHDAY=31"),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1",
            "FREQ=YEARLY;INTERVAL=1;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1",
        ),
        # UNTIL as a date-time after the day's occurrence: that day is the last.
        ("FREQ=DAILY;UNTIL=19970910T140000Z", "FREQ=DAILY;INTERVAL=1;UNTIL=19970910T235959"),
        ("FREQ=DAILY;UNTIL=19970910T120000Z", "FREQ=DAILY;INTERVAL=1;UNTIL=19970909T235959"),
    ],
)
def test_parts_a_rule_leaves_out_come_from_its_start(rule: str, canonical: str) -> None:
    start = _ny("19970902T090000")
    assert recurrence.normalize_rule(rule, start) == canonical
    _assert_same_series(rule, start)


def test_an_until_date_under_a_timed_series_is_its_last_day() -> None:
    # RFC 5545 wants UNTIL and DTSTART of one value type; CRMs and Outlook write a date for a
    # timed series and mean the whole day, as Exchange's end date does (dateutil would read
    # midnight and drop that day's occurrence).
    start = _ny("19970902T090000")
    assert recurrence.normalize_rule("FREQ=DAILY;UNTIL=19970910", start) == (
        "FREQ=DAILY;INTERVAL=1;UNTIL=19970910T235959"
    )


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=31", "20240131T090000"),
        ("FREQ=MONTHLY", "20240130T090000"),  # the 30th, from DTSTART
        ("FREQ=YEARLY", "20240229T090000"),
    ],
)
def test_days_shorter_months_lack_are_refused_with_exchanges_spelling(
    rule: str, start: str
) -> None:
    with pytest.raises(recurrence.RecurrenceError, match="BYSETPOS=-1 says that"):
        recurrence.parse_rule(rule, _ny(start))


def test_a_rule_without_its_start_cannot_take_defaults() -> None:
    with pytest.raises(recurrence.RecurrenceError, match="start"):
        recurrence.parse_rule("FREQ=WEEKLY;COUNT=5")


def test_all_day_series_take_defaults_from_their_date() -> None:
    assert recurrence.normalize_rule("FREQ=WEEKLY", date(2024, 4, 5)) == (
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR"
    )


_DAYS = list(recurrence.WEEKDAY_CODES)


@st.composite
def _rules(draw: st.DrawFn) -> str:
    """RRULE text as people write it: parts left out, any order, any letter case, a prefix."""
    frequency = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY"]))
    parts = [f"FREQ={frequency}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(_DAYS), min_size=1, max_size=3, unique=True))
        prefix = draw(st.sampled_from(["", "", "1", "2", "-1", "5"]))
        parts.append("BYDAY=" + ",".join(prefix + day for day in days))
    if draw(st.booleans()):
        day = draw(st.integers(1, 31))
        last_of_shorter_months = day > 28 and draw(st.booleans())
        days = ",".join(map(str, range(28, day + 1))) if last_of_shorter_months else str(day)
        parts.append(f"BYMONTHDAY={days}" + (";BYSETPOS=-1" if last_of_shorter_months else ""))
    if frequency == "YEARLY" and draw(st.booleans()):
        parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(_DAYS))}")
    end = draw(st.sampled_from(["", "COUNT", "UNTIL"]))
    if end == "COUNT":
        parts.append(f"COUNT={draw(st.integers(1, 30))}")
    elif end == "UNTIL":
        until = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 900)))
        parts.append(f"UNTIL={until:%Y%m%d}" + draw(st.sampled_from(["T235959", "T120000Z"])))
    ordered = draw(st.permutations(parts))
    text = ";".join(ordered)
    text = text.lower() if draw(st.booleans()) else text
    return ("RRULE:" if draw(st.booleans()) else "") + text


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    rule=_rules(),
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31)).map(
        lambda moment: moment.replace(second=0, microsecond=0, tzinfo=NEW_YORK)
    ),
)
def test_generated_rules_keep_their_series_or_say_why(rule: str, start: datetime) -> None:
    try:
        recurrence.parse_rule(rule, start)
    except recurrence.RecurrenceError as error:
        reason = str(error)
    else:
        reason = None
    if reason is not None:
        assert reason, "a refused rule says why"
        return
    bare = rule.split(":", 1)[1] if rule.upper().startswith("RRULE:") else rule
    _assert_same_series(bare, start)
