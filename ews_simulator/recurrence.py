"""Expansion of EWS recurrence patterns into occurrences.

Occurrences repeat the master's wall-clock start time in the master's start time zone, so a
weekly 10:00 meeting stays at 10:00 local time across daylight-saving changes, as in Exchange.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from ews_simulator.xml import Element, local, parse_date, text_t

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEK_INDEX = {"First": 1, "Second": 2, "Third": 3, "Fourth": 4, "Last": -1}
# Upper bound on generated instances for open-ended series, so a malformed pattern cannot spin.
MAX_INSTANCES = 5000


class RecurrenceError(ValueError):
    pass


@dataclass(frozen=True)
class Occurrence:
    index: int  # 1-based instance index, as in OccurrenceItemId/InstanceIndex
    start: datetime  # UTC
    end: datetime  # UTC


def _weekday_set(value: str) -> set[int]:
    days: set[int] = set()
    for token in value.split():
        if token == "Day":
            days |= set(range(7))
        elif token == "Weekday":
            days |= set(range(5))
        elif token == "WeekendDay":
            days |= {5, 6}
        elif token in WEEKDAYS:
            days.add(WEEKDAYS.index(token))
        else:
            raise RecurrenceError(f"Unknown day of week {token!r}")
    return days


def _nth_weekday(year: int, month: int, days: set[int], index: int) -> date | None:
    matching = [
        date(year, month, d)
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if date(year, month, d).weekday() in days
    ]
    if not matching:
        return None
    if index == -1:
        return matching[-1]
    return matching[index - 1] if index <= len(matching) else None


def _int(pattern: Element, name: str, default: int | None = None) -> int:
    value = text_t(pattern, name)
    if value is None:
        if default is None:
            raise RecurrenceError(f"{local(pattern)} lacks {name}")
        return default
    return int(value)


def _pattern_dates(pattern: Element, first: date) -> Iterator[date]:
    kind = local(pattern)
    interval = max(1, _int(pattern, "Interval", 1))
    if kind == "DailyRecurrence":
        day = first
        while True:
            yield day
            day += timedelta(days=interval)
    elif kind == "WeeklyRecurrence":
        days = _weekday_set(text_t(pattern, "DaysOfWeek") or "")
        first_day = WEEKDAYS.index(text_t(pattern, "FirstDayOfWeek") or "Sunday")
        week_start = first - timedelta(days=(first.weekday() - first_day) % 7)
        while True:
            for offset in range(7):
                day = week_start + timedelta(days=offset)
                if day >= first and day.weekday() in days:
                    yield day
            week_start += timedelta(weeks=interval)
    elif kind in ("AbsoluteMonthlyRecurrence", "RelativeMonthlyRecurrence"):
        year, month = first.year, first.month
        while True:
            candidate = _month_day(pattern, kind, year, month)
            if candidate is not None and candidate >= first:
                yield candidate
            month += interval
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    elif kind in ("AbsoluteYearlyRecurrence", "RelativeYearlyRecurrence"):
        month = calendar.month_name[:].index(text_t(pattern, "Month") or "January")
        year = first.year
        while True:
            monthly_kind = kind.replace("Yearly", "Monthly")
            candidate = _month_day(pattern, monthly_kind, year, month)
            if candidate is not None and candidate >= first:
                yield candidate
            year += 1
    else:
        raise RecurrenceError(f"Unsupported recurrence pattern {kind}")


def _month_day(pattern: Element, kind: str, year: int, month: int) -> date | None:
    if kind == "AbsoluteMonthlyRecurrence":
        day = _int(pattern, "DayOfMonth")
        # Exchange moves day 31 to the last day of shorter months.
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))
    days = _weekday_set(text_t(pattern, "DaysOfWeek") or "")
    index = WEEK_INDEX.get(text_t(pattern, "DayOfWeekIndex") or "First", 1)
    return _nth_weekday(year, month, days, index)


@dataclass(frozen=True)
class Series:
    pattern: Element
    start_date: date
    end_date: date | None
    count: int | None

    @classmethod
    def parse(cls, recurrence: Element) -> Series:
        if len(recurrence) != 2:
            raise RecurrenceError("Recurrence needs a pattern and a range")
        pattern, rng = recurrence[0], recurrence[1]
        start_text = text_t(rng, "StartDate")
        if start_text is None:
            raise RecurrenceError("Recurrence range lacks StartDate")
        end_text = text_t(rng, "EndDate")
        count_text = text_t(rng, "NumberOfOccurrences")
        return cls(
            pattern=pattern,
            start_date=parse_date(start_text),
            end_date=parse_date(end_text) if end_text else None,
            count=int(count_text) if count_text else None,
        )

    @property
    def has_end(self) -> bool:
        return self.end_date is not None or self.count is not None

    def occurrences(
        self, master_start: datetime, duration: timedelta, tz: tzinfo, until: datetime | None
    ) -> Iterator[Occurrence]:
        """Yield instances in order; stop at the series end or once a start passes `until`."""
        local_start = master_start.astimezone(tz)
        wall_time = local_start.timetz().replace(tzinfo=None)
        for index, day in enumerate(_pattern_dates(self.pattern, self.start_date), start=1):
            if self.count is not None and index > self.count:
                return
            if self.end_date is not None and day > self.end_date:
                return
            if index > MAX_INSTANCES:
                return
            start = datetime.combine(day, wall_time, tzinfo=tz).astimezone(UTC)
            if until is not None and start >= until:
                return
            yield Occurrence(index, start, start + duration)


def time_zone_id(item_fields: dict[str, Element], name: str = "StartTimeZone") -> str | None:
    el = item_fields.get(name)
    return None if el is None else el.get("Id")
