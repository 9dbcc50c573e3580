"""Exchange calendar items ↔ appointment records (the folder is calendar_folder's).

A series is read from its master (pattern, deleted and modified occurrences) plus one bulk
GetItem of its exceptions; it is written as the master, then occurrence updates and deletions.
Meeting invitations and cancellations are never sent (SEND_TO_NONE throughout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib import CalendarItem, EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.fields import MONTHS, WEEK_NUMBERS, WEEKDAY_NAMES, WEEKDAYS
from exchangelib.properties import Attendee, Mailbox
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    Recurrence,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)

from workers.connectors.ews.folder import as_utc
from workers.connectors.ews.items import is_private, read_body, sensitivity, write_body
from workers.connectors.ews.properties import TAG_FIELD
from workers.sync.core import recurrence
from workers.sync.core.occurrences import ModifiedOccurrence, sorted_exceptions
from workers.sync.core.records import Record, Value
from workers.sync.core.recurrence import Frequency, Pattern
from workers.sync.core.values import EXDATES, OCCURRENCES, email, importance, members, text

_SIMPLE = {"subject": "subject", "location": "location"}
_READ = {
    "subject": ("subject",),
    "location": ("location",),
    "start": ("start", "_start_timezone"),
    "end": ("end", "_end_timezone"),
    "body": ("body",),
    "reminder": ("reminder_is_set", "reminder_minutes_before_start"),
    "private": ("sensitivity",),
    "organizer": ("organizer",),
    "importance": ("importance",),
    "attendees": ("required_attendees", "optional_attendees", "organizer"),
    "recurrence": ("recurrence", "modified_occurrences", "deleted_occurrences"),
}
EXCEPTION_FIELDS = ["subject", "location", "start", "end", "original_start", "is_all_day"]
EXCEPTION_FIELDS += ["_start_timezone", "_end_timezone"]
# Exchange's relative week numbers and RRULE's BYSETPOS values, in the same order.
_WEEK_NUMBER_VALUES = dict(zip(WEEK_NUMBERS, recurrence.WEEK_NUMBERS, strict=True))
# Exchange's one-value day groups of relative patterns, as weekday sets.
_DAY_GROUPS = {"Day": tuple(range(7)), "Weekday": tuple(range(5)), "WeekendDay": (5, 6)}


def _weekdays_of(value: Any) -> tuple[int, ...]:
    """exchangelib weekday values (1 = Monday, 8 to 10 the groups, or names) as 0-based days."""
    name = WEEKDAYS[value - 1] if isinstance(value, int) else str(value)
    if name in _DAY_GROUPS:
        return _DAY_GROUPS[name]
    return (WEEKDAY_NAMES.index(name),)


def _weekday_value(days: tuple[int, ...]) -> int:
    for name, group in _DAY_GROUPS.items():
        if days == group:
            return int(WEEKDAYS.index(name)) + 1
    if len(days) != 1:
        raise recurrence.RecurrenceError("Exchange takes one weekday or one day group here")
    return days[0] + 1


def _index(value: Any, names: Sequence[str]) -> int:
    if isinstance(value, int):
        return value
    return names.index(str(value)) + 1


def pattern_from_exchange(value: Recurrence) -> Pattern:
    source = value.pattern
    boundary = value.boundary
    end: dict[str, Any] = {}
    if isinstance(boundary, EndDatePattern):
        end["until"] = boundary.end
    elif isinstance(boundary, NumberedPattern):
        end["count"] = boundary.number
    if isinstance(source, DailyPattern):
        return Pattern(Frequency.DAILY, source.interval, **end)
    if isinstance(source, WeeklyPattern):
        days = tuple(sorted(d for day in source.weekdays for d in _weekdays_of(day)))
        first = _index(source.first_day_of_week, WEEKDAY_NAMES) - 1
        return Pattern(Frequency.WEEKLY, source.interval, days, first_day_of_week=first, **end)
    if isinstance(source, AbsoluteMonthlyPattern):
        return Pattern(Frequency.MONTHLY, source.interval, month_day=source.day_of_month, **end)
    if isinstance(source, RelativeMonthlyPattern):
        return Pattern(
            Frequency.MONTHLY,
            source.interval,
            _weekdays_of(source.weekday),
            week_number=_WEEK_NUMBER_VALUES[
                WEEK_NUMBERS[_index(source.week_number, WEEK_NUMBERS) - 1]
            ],
            **end,
        )
    month = _index(source.month, MONTHS)
    if isinstance(source, AbsoluteYearlyPattern):
        return Pattern(Frequency.YEARLY, month_day=source.day_of_month, month=month, **end)
    if isinstance(source, RelativeYearlyPattern):
        return Pattern(
            Frequency.YEARLY,
            weekdays=_weekdays_of(source.weekday),
            month=month,
            week_number=_WEEK_NUMBER_VALUES[
                WEEK_NUMBERS[_index(source.week_number, WEEK_NUMBERS) - 1]
            ],
            **end,
        )
    raise recurrence.RecurrenceError(f"unsupported Exchange pattern {type(source).__name__}")


def pattern_to_exchange(pattern: Pattern, first_day: date) -> Recurrence:
    week_number = (
        recurrence.WEEK_NUMBERS.index(pattern.week_number) + 1
        if pattern.week_number is not None
        else None
    )
    source: Any
    if pattern.frequency is Frequency.DAILY:
        source = DailyPattern(interval=pattern.interval)
    elif pattern.frequency is Frequency.WEEKLY:
        source = WeeklyPattern(
            interval=pattern.interval,
            weekdays=[day + 1 for day in pattern.weekdays],
            first_day_of_week=pattern.first_day_of_week + 1,
        )
    elif pattern.frequency is Frequency.MONTHLY and week_number is None:
        source = AbsoluteMonthlyPattern(interval=pattern.interval, day_of_month=pattern.month_day)
    elif pattern.frequency is Frequency.MONTHLY:
        source = RelativeMonthlyPattern(
            interval=pattern.interval,
            weekday=_weekday_value(pattern.weekdays),
            week_number=week_number,
        )
    elif week_number is None:
        source = AbsoluteYearlyPattern(day_of_month=pattern.month_day, month=pattern.month or 1)
    else:
        source = RelativeYearlyPattern(
            weekday=_weekday_value(pattern.weekdays),
            week_number=week_number,
            month=pattern.month or 1,
        )
    start = EWSDate.from_date(first_day)
    if pattern.count is not None:
        return Recurrence(pattern=source, start=start, number=pattern.count)
    if pattern.until is not None:
        return Recurrence(pattern=source, start=start, end=EWSDate.from_date(pattern.until))
    return Recurrence(pattern=source, boundary=NoEndPattern(start=start))


def read_when(value: Any, zone: tzinfo | None) -> Value:
    """An exchangelib start or end: a date (all-day) or an instant."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return str(value.isoformat())


def read_original(value: datetime | None, all_day: bool, zone: tzinfo) -> Value:
    if value is None:
        return None
    return value.astimezone(zone).date().isoformat() if all_day else as_utc(value)


@dataclass(frozen=True)
class CalendarCodec:
    """Builds and reads calendar items for the mapped appointment fields."""

    fields: frozenset[str]
    zone: ZoneInfo  # the user's: new items are placed in it, all-day dates read in it
    mailbox: str

    @property
    def ews_zone(self) -> EWSTimeZone:
        return EWSTimeZone.from_zoneinfo(self.zone)

    @property
    def only_fields(self) -> list[str]:
        wanted = {TAG_FIELD, "last_modified_time", "is_all_day", "start", "end", "type"}
        wanted |= {"_start_timezone", "_end_timezone"}
        for name in self.fields:
            wanted.update(_READ.get(name, ()))
        return sorted(wanted)

    def series_zone(self, item: Any) -> tzinfo:
        found = getattr(item, "_start_timezone", None)
        return found if isinstance(found, tzinfo) else self.zone

    def to_record(self, item: CalendarItem) -> dict[str, Value]:
        zone = self.series_zone(item)
        values: dict[str, Value] = {
            "subject": text(item.subject),
            "location": text(item.location),
            "start": read_when(item.start, zone),
            "end": read_when(item.end, zone),
            "is_all_day": bool(item.is_all_day),
            "reminder": item.reminder_minutes_before_start if item.reminder_is_set else None,
            "private": is_private(item),
            "organizer": email(item.organizer.email_address) if item.organizer else None,
            "importance": importance(item.importance),
        }
        read_body(item, self.fields, values)
        values["attendees"] = self._attendees(item)
        values.update(self._series(item, zone))
        return {name: value for name, value in values.items() if name in self.fields}

    def _attendees(self, item: CalendarItem) -> tuple[Value, ...]:
        organizer = email(item.organizer.email_address) if item.organizer else None
        found: set[str] = set()
        for attendee in [*(item.required_attendees or ()), *(item.optional_attendees or ())]:
            address = email(attendee.mailbox.email_address if attendee.mailbox else None)
            declined = attendee.response_type == "Decline"
            if address and not declined and address not in (organizer, self.mailbox):
                found.add(address)
        return tuple(sorted(found))

    def _series(self, item: CalendarItem, zone: tzinfo) -> dict[str, Value]:
        if item.recurrence is None:
            return {"recurrence": None, EXDATES: (), OCCURRENCES: ()}
        all_day = bool(item.is_all_day)
        exdates = [read_original(d.start, all_day, zone) for d in item.deleted_occurrences or ()]
        # Subject and location come with the exceptions' own fetch (CalendarGateway).
        modified = [
            ModifiedOccurrence(
                read_original(o.original_start, all_day, zone),
                read_original(o.start, all_day, zone),
                _end_of(o.end, all_day, zone),
                None,
                None,
            )
            for o in item.modified_occurrences or ()
        ]
        return {
            "recurrence": recurrence.format_rule(pattern_from_exchange(item.recurrence)),
            EXDATES: tuple(sorted((d for d in exdates if d is not None), key=str)),
            OCCURRENCES: sorted_exceptions(modified),
        }

    def tag_of(self, item: CalendarItem) -> str | None:
        tag = getattr(item, TAG_FIELD, None)
        return str(tag) if tag else None

    def new_item(self, record: Record, tag: str, account: Any, folder: Any) -> CalendarItem:
        item = CalendarItem(account=account, folder=folder)
        self.assign(item, record, list(record), organizer=True)
        setattr(item, TAG_FIELD, tag)
        return item

    def changed_item(
        self, item_id: str, change_key: str | None, full: Record, changed: Sequence[str]
    ) -> tuple[CalendarItem, list[str]]:
        item = CalendarItem(id=item_id, changekey=change_key)
        organizer = full.get("organizer") in (None, self.mailbox)
        return item, self.assign(item, full, changed, organizer=organizer)

    def _times(self, record: Record) -> tuple[Any, Any]:
        start, end = record.get("start"), record.get("end")
        if isinstance(start, str):
            last = end if isinstance(end, str) else start
            return EWSDate.fromisoformat(start), EWSDate.fromisoformat(last)
        zone = self.ews_zone
        return (
            EWSDateTime.from_datetime(start).astimezone(zone)
            if isinstance(start, datetime)
            else None,
            EWSDateTime.from_datetime(end).astimezone(zone) if isinstance(end, datetime) else None,
        )

    def assign(
        self, item: CalendarItem, record: Record, names: Sequence[str], *, organizer: bool
    ) -> list[str]:
        fieldnames: list[str] = []
        for name, attribute in _SIMPLE.items():
            if name in names:
                setattr(item, attribute, text(record.get(name)))
                fieldnames.append(attribute)
        if {"start", "end", "is_all_day"} & set(names):
            item.start, item.end = self._times(record)
            item.is_all_day = isinstance(record.get("start"), str)
            item._start_timezone = item._end_timezone = self.ews_zone
            fieldnames += ["start", "end", "is_all_day"]
        if "body" in names or "details" in names:
            item.body = write_body(record)
            fieldnames.append("body")
        if "reminder" in names:
            minutes = record.get("reminder")
            item.reminder_is_set = isinstance(minutes, int)
            item.reminder_minutes_before_start = minutes if isinstance(minutes, int) else None
            fieldnames += ["reminder_is_set", "reminder_minutes_before_start"]
        if "private" in names:
            item.sensitivity = sensitivity(record)
            fieldnames.append("sensitivity")
        if "importance" in names:
            item.importance = importance(str(record.get("importance") or ""))
            fieldnames.append("importance")
        if "attendees" in names and organizer:
            addresses = [a for a in members(record.get("attendees")) if isinstance(a, str)]
            item.required_attendees = [
                Attendee(mailbox=Mailbox(email_address=a), response_type="Unknown")
                for a in addresses
            ] or None
            fieldnames.append("required_attendees")
        if "recurrence" in names:
            rule = record.get("recurrence")
            first_day = _first_day(record, self.zone)
            item.recurrence = (
                pattern_to_exchange(recurrence.parse_rule(rule, first_day), first_day)
                if isinstance(rule, str)
                else None
            )
            fieldnames.append("recurrence")
        return fieldnames


def _end_of(value: datetime | None, all_day: bool, zone: tzinfo) -> Value:
    """An occurrence's end; an all-day one's as its last day (inclusive), as records keep it."""
    if value is None or not all_day:
        return read_original(value, all_day, zone)
    local = value.astimezone(zone)
    return date.fromordinal(local.date().toordinal() - 1).isoformat()


def _first_day(record: Record, zone: tzinfo) -> date:
    start = record.get("start")
    if isinstance(start, str):
        return date.fromisoformat(start)
    assert isinstance(start, datetime)
    return start.astimezone(zone).date()
