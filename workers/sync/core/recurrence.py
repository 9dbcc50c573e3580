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
from datetime import UTC, date, datetime, time, tzinfo
from enum import StrEnum

from dateutil.rrule import rrulestr

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


def _parts(text: str) -> dict[str, str]:
    rule = text.strip()
    for line in rule.splitlines():
        if line.upper().startswith("RRULE:"):
            rule = line[len("RRULE:") :]
            break
    parts: dict[str, str] = {}
    for part in rule.strip().split(";"):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise RecurrenceError(f"malformed RRULE part {part!r}")
        parts[name.strip().upper()] = value.strip().upper()
    return parts


def _weekday(code: str) -> int:
    if code not in WEEKDAY_CODES:
        raise RecurrenceError(f"unknown weekday {code!r}")
    return WEEKDAY_CODES.index(code)


def _until(value: str) -> date:
    try:
        return datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        raise RecurrenceError(f"malformed UNTIL {value!r}") from None


def _int(parts: dict[str, str], name: str) -> int | None:
    if name not in parts:
        return None
    try:
        return int(parts[name])
    except ValueError:
        raise RecurrenceError(f"malformed {name} {parts[name]!r}") from None


def parse_rule(text: str) -> Pattern:
    """The pattern of an RRULE (bare, or a content line among others)."""
    parts = _parts(text)
    try:
        frequency = Frequency(parts.get("FREQ", ""))
    except ValueError:
        raise RecurrenceError(f"unsupported FREQ {parts.get('FREQ')!r}") from None
    interval = _int(parts, "INTERVAL") or 1
    weekdays: list[int] = []
    week_number = _int(parts, "BYSETPOS")
    for code in filter(None, parts.get("BYDAY", "").split(",")):
        prefix, day = code[:-2], code[-2:]
        if prefix:
            if week_number is not None and week_number != int(prefix):
                raise RecurrenceError("mixed week numbers in BYDAY")
            week_number = int(prefix)
        weekdays.append(_weekday(day))
    if week_number is not None and week_number not in WEEK_NUMBERS:
        raise RecurrenceError(f"week number {week_number} has no Exchange equivalent")
    month_day = _int(parts, "BYMONTHDAY")
    periodic = frequency in (Frequency.MONTHLY, Frequency.YEARLY)
    if periodic and week_number is None and month_day is None:
        raise RecurrenceError(f"a {frequency} rule needs BYMONTHDAY or an n-th BYDAY")
    if frequency is Frequency.YEARLY and interval != 1:
        raise RecurrenceError("Exchange repeats yearly patterns every year only")
    if frequency is Frequency.WEEKLY and not weekdays:
        raise RecurrenceError("a WEEKLY rule needs BYDAY")
    if "UNTIL" in parts and "COUNT" in parts:
        raise RecurrenceError("UNTIL and COUNT together")
    return Pattern(
        frequency=frequency,
        interval=interval,
        weekdays=tuple(sorted(set(weekdays))),
        month_day=month_day if week_number is None else None,
        month=_int(parts, "BYMONTH"),
        week_number=week_number if frequency in (Frequency.MONTHLY, Frequency.YEARLY) else None,
        first_day_of_week=_weekday(parts["WKST"]) if "WKST" in parts else 0,
        until=_until(parts["UNTIL"]) if "UNTIL" in parts else None,
        count=_int(parts, "COUNT"),
    )


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
    if pattern.month_day is not None:
        parts.append(f"BYMONTHDAY={pattern.month_day}")
    if pattern.frequency is Frequency.WEEKLY and pattern.first_day_of_week != 0:
        parts.append(f"WKST={WEEKDAY_CODES[pattern.first_day_of_week]}")
    if pattern.count is not None:
        parts.append(f"COUNT={pattern.count}")
    if pattern.until is not None:
        parts.append(f"UNTIL={pattern.until:%Y%m%d}T235959")
    return ";".join(parts)


def normalize_rule(text: str) -> str:
    return format_rule(parse_rule(text))


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


def _parse_exdate(value: str) -> datetime | str:
    value = value.strip()
    if "T" not in value:
        return datetime.strptime(value, "%Y%m%d").date().isoformat()
    parsed = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    return parsed.replace(tzinfo=UTC)


def split_rule_text(text: str) -> tuple[str, tuple[datetime | str, ...]]:
    """The canonical RRULE and the sorted EXDATEs of a `comm_recurrencerule` value."""
    exdates: set[datetime | str] = set()
    for line in text.splitlines():
        name, sep, values = line.partition(":")
        if sep and name.upper().startswith("EXDATE"):
            exdates.update(_parse_exdate(value) for value in values.split(",") if value.strip())
    return normalize_rule(text), tuple(sorted(exdates, key=str))


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
