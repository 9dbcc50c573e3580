"""Recurrence patterns: RFC 5545 RRULE text ↔ a neutral model both sides can express.

Pure. The model covers what Exchange can represent (daily, weekly, absolute and relative monthly
and yearly; end by date, by count or never). `comm_recurrencerule` holds the RRULE content line,
then an EXDATE line for deleted occurrences; the series' DTSTART is the master's start.

Canonical text is produced by `format_rule(parse_rule(text))`, so two spellings of one rule
compare equal: parts in a fixed order, INTERVAL always, WKST only when not Monday, UNTIL as the
last local second of its day (the series' DTSTART is floating local time, so UNTIL is too).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from dateutil.rrule import rrulestr
from icalendar.prop import vDDDLists, vRecur

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# RRULE BYSETPOS / nth-weekday values Exchange can express: first … fourth, last.
WEEK_NUMBERS = (1, 2, 3, 4, -1)
MAX_EXPANSION = 5000


class RecurrenceError(ValueError):
    """A rule crmsync cannot express on the other side."""


class Frequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


@dataclass(frozen=True)
class Pattern:
    """One recurrence pattern and its end.

    Monthly and yearly patterns are absolute when `month_day` is set and relative (the n-th
    weekday, weekday, weekend day or day) when `week_number` is set; `weekdays` are 0 = Monday.
    """

    frequency: Frequency
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None
    month: int | None = None
    week_number: int | None = None
    first_day_of_week: int = 0
    until: date | None = None
    count: int | None = None

    @property
    def is_relative(self) -> bool:
        return self.week_number is not None


class _RuleParts:
    """An RRULE's parts as icalendar's vRecur reads them (any letter case), each a list."""

    def __init__(self, text: str) -> None:
        rule = text.strip()
        for line in rule.splitlines():
            if line.strip().upper().startswith("RRULE:"):
                rule = line.strip()[len("RRULE:") :]
                break
        else:
            rule = rule.splitlines()[0] if rule else ""
        try:
            self.parts: dict[str, list[Any]] = dict(vRecur.from_ical(rule.strip()))
        except (ValueError, TypeError, KeyError) as exc:
            raise RecurrenceError(f"malformed RRULE {rule!r}: {exc}") from None
        unsupported = sorted(set(self.parts) & _UNREPRESENTABLE_PARTS)
        if unsupported:
            raise RecurrenceError(f"Exchange has no pattern for {', '.join(unsupported)}")

    def one(self, name: str) -> Any:
        """The single value of a part, None when absent; a list where Exchange takes one value
        is refused."""
        values = self.parts.get(name, [])
        if len(values) > 1:
            raise RecurrenceError(f"Exchange takes one {name} value, not {len(values)}")
        return values[0] if values else None

    def positive(self, name: str) -> int | None:
        value = self.one(name)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise RecurrenceError(f"{name} must be a positive whole number, not {value!r}")
        return value


_UNREPRESENTABLE_PARTS = {"BYSECOND", "BYMINUTE", "BYHOUR", "BYYEARDAY", "BYWEEKNO"}
_WEEKDAY_GROUPS = ((0, 1, 2, 3, 4), (5, 6), (0, 1, 2, 3, 4, 5, 6))
_SHORTEST_MONTH = 28
# February counts 28: a yearly 29 February skips three years in four in RFC 5545.
_MONTH_LENGTHS = {
    1: 31,
    2: 28,
    3: 31,
    4: 30,
    5: 31,
    6: 30,
    7: 31,
    8: 31,
    9: 30,
    10: 31,
    11: 30,
    12: 31,
}


def _weekday(code: str) -> int:
    if code not in WEEKDAY_CODES:
        raise RecurrenceError(f"unknown weekday {code!r}")
    return WEEKDAY_CODES.index(code)


def _by_day(values: list[Any]) -> tuple[tuple[int, ...], set[int]]:
    """BYDAY's weekdays (0 = Monday) and the week numbers prefixed to them (2TU, -1FR)."""
    weekdays: set[int] = set()
    numbers: set[int] = set()
    for value in values:
        code = str(value).upper()
        prefix, day = code[:-2], code[-2:]
        weekdays.add(_weekday(day))
        if prefix:
            try:
                numbers.add(int(prefix))
            except ValueError:
                raise RecurrenceError(f"malformed BYDAY value {code!r}") from None
    return tuple(sorted(weekdays)), numbers


def _last_day(until: object, start: datetime | date | None) -> date | None:
    """UNTIL as Exchange's end date: the last day an occurrence may start on.

    A date-time UNTIL (UTC, or floating local time like the series) ends the series on its
    local day, or the day before when it falls before that day's occurrence.
    """
    if until is None:
        return None
    if not isinstance(until, datetime) and isinstance(until, date):
        return until
    if not isinstance(until, datetime):
        raise RecurrenceError(f"malformed UNTIL {until!r}")
    if not isinstance(start, datetime):
        return until.date()
    if until.tzinfo is not None and start.tzinfo is not None:
        until = until.astimezone(start.tzinfo)
    local_start = start.replace(tzinfo=None)
    local_until = until.replace(tzinfo=None)
    day = local_until.date()
    return day if local_until.time() >= local_start.time() else day - timedelta(days=1)


def _month_day(values: list[Any], set_position: int | None) -> tuple[int | None, bool]:
    """BYMONTHDAY as Exchange's day of the month, and whether the rule spells Exchange's own
    meaning of days 29-31: the last day of a shorter month (BYMONTHDAY=28,29,30;BYSETPOS=-1)."""
    if not values:
        return None, False
    days = sorted(values)
    last = days[-1]
    if len(days) > 1 and set_position == -1 and days == list(range(_SHORTEST_MONTH, last + 1)):
        return last, True
    if len(days) > 1:
        raise RecurrenceError(f"Exchange takes one BYMONTHDAY value, not {len(days)}")
    if not 1 <= last <= 31:
        raise RecurrenceError(f"BYMONTHDAY {last} has no Exchange equivalent")
    return last, False


def _shortest_length(frequency: Frequency, month: int | None) -> int:
    """The fewest days of the months a monthly or yearly pattern falls in."""
    return _MONTH_LENGTHS[month] if frequency is Frequency.YEARLY and month else _SHORTEST_MONTH


def _relative_week(
    frequency: Frequency, set_position: int | None, prefixes: set[int]
) -> int | None:
    """The n-th (first … fourth, last) of a relative monthly or yearly pattern, if it is one."""
    if len(prefixes) > 1 or (prefixes and set_position is not None):
        raise RecurrenceError("mixed week numbers in BYDAY")
    week = set_position if set_position is not None else next(iter(prefixes), None)
    if week is None:
        return None
    if frequency not in (Frequency.MONTHLY, Frequency.YEARLY):
        raise RecurrenceError(f"a {frequency} rule has no n-th weekday in Exchange")
    if week not in WEEK_NUMBERS:
        raise RecurrenceError(f"week number {week} has no Exchange equivalent")
    return int(week)


def parse_rule(text: str, start: datetime | date | None = None) -> Pattern:
    """The Exchange pattern of an RRULE (bare, or a content line among others, any letter
    case), or RecurrenceError saying why Exchange cannot represent it.

    `start` is the series' DTSTART, local (aware in its zone) or a date: RFC 5545 takes the
    parts a rule leaves out from it (a WEEKLY rule's weekday, a MONTHLY rule's day, a YEARLY
    rule's month and day), and a date-time UNTIL is read against its time of day.
    """
    parts = _RuleParts(text)
    first_day = start.date() if isinstance(start, datetime) else start
    try:
        frequency = Frequency(str(parts.one("FREQ") or "").upper())
    except ValueError:
        raise RecurrenceError(
            f"Exchange cannot repeat {parts.one('FREQ') or 'without a FREQ'}: only DAILY, "
            "WEEKLY, MONTHLY and YEARLY"
        ) from None
    interval = parts.positive("INTERVAL") or 1
    weekdays, prefixes = _by_day(parts.parts.get("BYDAY", []))
    set_position = parts.one("BYSETPOS")
    month_day, clamped = _month_day(parts.parts.get("BYMONTHDAY", []), set_position)
    week_number = _relative_week(frequency, None if clamped else set_position, prefixes)
    month = parts.one("BYMONTH")
    if frequency is Frequency.DAILY and weekdays:
        if interval != 1 or month_day is not None or month is not None:
            raise RecurrenceError("Exchange repeats chosen weekdays only weekly")
        frequency = Frequency.WEEKLY  # every MO,WE day is every week on MO,WE
    if frequency in (Frequency.DAILY, Frequency.WEEKLY) and (month_day or month):
        raise RecurrenceError(f"a {frequency} rule cannot be limited to days or months")
    if frequency is Frequency.MONTHLY and month is not None:
        raise RecurrenceError("Exchange cannot limit a MONTHLY rule to some months")
    if frequency is Frequency.YEARLY and interval != 1:
        raise RecurrenceError("Exchange repeats yearly patterns every year only")
    if week_number is not None and month_day is not None:
        raise RecurrenceError("BYMONTHDAY and an n-th BYDAY together")
    # 2MO,2TU is the second Monday and the second Tuesday: two days a month. Only BYSETPOS
    # picks the n-th day of a group (MO-FR: the n-th weekday), as Exchange's pattern does.
    if (
        week_number is not None
        and len(weekdays) != 1
        and (prefixes or weekdays not in _WEEKDAY_GROUPS)
    ):
        raise RecurrenceError("Exchange takes one weekday or one day group for the n-th day")
    if frequency in (Frequency.MONTHLY, Frequency.YEARLY) and week_number is None and weekdays:
        days = ",".join(WEEKDAY_CODES[day] for day in weekdays)
        raise RecurrenceError(f"a {frequency} rule on every {days} has no Exchange equivalent")
    if parts.one("UNTIL") is not None and parts.one("COUNT") is not None:
        raise RecurrenceError("UNTIL and COUNT together")
    if frequency is Frequency.YEARLY and month is None:
        if week_number is not None or clamped:
            raise RecurrenceError("an n-th day of the year has no Exchange equivalent")
        if month_day is not None:  # that day of every month
            frequency = Frequency.MONTHLY
    # RFC 5545's defaults from DTSTART.
    periodic = frequency in (Frequency.MONTHLY, Frequency.YEARLY)
    needs_weekday = frequency is Frequency.WEEKLY and not weekdays
    needs_day = periodic and week_number is None and month_day is None
    needs_month = frequency is Frequency.YEARLY and month is None
    if first_day is None and (needs_weekday or needs_day or needs_month):
        raise RecurrenceError(f"this {frequency} rule takes its day from the series' start")
    if first_day is not None:
        weekdays = (first_day.weekday(),) if needs_weekday else weekdays
        month_day = first_day.day if needs_day else month_day
        month = first_day.month if needs_month else month
    if month_day is not None and not clamped and month_day > _shortest_length(frequency, month):
        raise RecurrenceError(
            f"day {month_day} is skipped in shorter months, where Exchange moves it to their last"
            f" day (BYMONTHDAY={_clamped_days(month_day)};BYSETPOS=-1 says that)"
        )
    return Pattern(
        frequency=frequency,
        interval=interval,
        weekdays=weekdays,
        month_day=month_day,
        month=month,
        week_number=week_number,
        first_day_of_week=_weekday(str(parts.one("WKST")).upper()) if parts.one("WKST") else 0,
        until=_last_day(parts.one("UNTIL"), start),
        count=parts.positive("COUNT"),
    )


def _clamped_days(day: int) -> str:
    return ",".join(str(number) for number in range(_SHORTEST_MONTH, day + 1))


def format_rule(pattern: Pattern) -> str:
    """The canonical RRULE value (no "RRULE:" prefix) of a pattern."""
    parts = [f"FREQ={pattern.frequency}", f"INTERVAL={pattern.interval}"]
    days = ",".join(WEEKDAY_CODES[day] for day in pattern.weekdays)
    if pattern.month is not None:
        parts.append(f"BYMONTH={pattern.month}")
    if pattern.is_relative and len(pattern.weekdays) == 1:
        parts.append(f"BYDAY={pattern.week_number}{days}")
    elif pattern.is_relative:
        parts += [f"BYDAY={days}", f"BYSETPOS={pattern.week_number}"]
    elif days:
        parts.append(f"BYDAY={days}")
    day = pattern.month_day
    if day is not None and day > _shortest_length(pattern.frequency, pattern.month):
        parts += [f"BYMONTHDAY={_clamped_days(day)}", "BYSETPOS=-1"]
    elif day is not None:
        parts.append(f"BYMONTHDAY={day}")
    if pattern.frequency is Frequency.WEEKLY and pattern.first_day_of_week != 0:
        parts.append(f"WKST={WEEKDAY_CODES[pattern.first_day_of_week]}")
    if pattern.count is not None:
        parts.append(f"COUNT={pattern.count}")
    if pattern.until is not None:
        parts.append(f"UNTIL={pattern.until:%Y%m%d}T235959")
    return ";".join(parts)


def normalize_rule(text: str, start: datetime | date | None = None) -> str:
    return format_rule(parse_rule(text, start))


# --- comm_recurrencerule: RRULE plus EXDATEs ------------------------------------------------


def _exdate_text(value: datetime | str) -> str:
    if isinstance(value, str):  # an all-day series: a date
        return value.replace("-", "")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def compose_rule_text(rule: str, exdates: Sequence[datetime | str]) -> str:
    """`comm_recurrencerule`: the RRULE line and, if any occurrence was deleted, an EXDATE line."""
    lines = [f"RRULE:{rule}"]
    if exdates:
        all_day = isinstance(exdates[0], str)
        kind = ";VALUE=DATE" if all_day else ""
        lines.append(f"EXDATE{kind}:" + ",".join(_exdate_text(value) for value in exdates))
    return "\n".join(lines)


def _exdates(values: str) -> list[datetime | str]:
    """An EXDATE line's values: aware datetimes (floating ones read as UTC, as written), or ISO
    date text for an all-day series."""
    try:
        parsed = vDDDLists.from_ical(values.strip())  # type: ignore[no-untyped-call]
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"malformed EXDATE {values!r}: {exc}") from None
    return [
        (value if value.tzinfo else value.replace(tzinfo=UTC))
        if isinstance(value, datetime)
        else value.isoformat()
        for value in parsed
    ]


def split_rule_text(
    text: str, start: datetime | date | None = None
) -> tuple[str, tuple[datetime | str, ...]]:
    """The canonical RRULE and the sorted EXDATEs of a `comm_recurrencerule` value; `start` is
    the series' DTSTART, as `parse_rule` takes it."""
    exdates: set[datetime | str] = set()
    for line in text.splitlines():
        name, sep, values = line.partition(":")
        if sep and name.strip().upper().startswith("EXDATE") and values.strip():
            exdates.update(_exdates(values))
    return normalize_rule(text, start), tuple(sorted(exdates, key=str))


# --- expansion ----------------------------------------------------------------------------


def occurrence_starts(
    rule: str, first_start: datetime | date, zone: tzinfo
) -> Iterator[datetime | date]:
    """Original starts of a series in order: aware UTC datetimes, or dates for all-day series.

    Occurrences repeat the first one's wall-clock time in `zone`, as Exchange expands a series
    in its start time zone, so they stay put across daylight-saving changes.
    """
    all_day = not isinstance(first_start, datetime)
    if isinstance(first_start, datetime):
        local = first_start.astimezone(zone).replace(tzinfo=None)
    else:
        local = datetime.combine(first_start, time())
    expansion = rrulestr(rule, dtstart=local)
    for index, start in enumerate(expansion):
        if index >= MAX_EXPANSION:
            return
        yield start.date() if all_day else start.replace(tzinfo=zone).astimezone(UTC)


def instance_index(
    rule: str, first_start: datetime | date, zone: tzinfo, original: datetime | date
) -> int | None:
    """The 1-based index of the occurrence that starts at `original` (Exchange's InstanceIndex)."""
    for index, start in enumerate(occurrence_starts(rule, first_start, zone), start=1):
        if start == original:
            return index
        if str(start) > str(original):  # one kind on both sides: ISO text orders alike
            return None
    return None
