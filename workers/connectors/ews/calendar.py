"""Exchange calendar items ↔ appointment records, and the calendar as the engine's remote side.

A series is read from its master (pattern, deleted and modified occurrences) plus one bulk
GetItem of its exceptions; it is written as the master, then occurrence updates and deletions.
Meeting invitations and cancellations are never sent (SEND_TO_NONE throughout).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib import CalendarItem, EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.fields import MONTHS, WEEK_NUMBERS, WEEKDAY_NAMES, WEEKDAYS
from exchangelib.items import SEND_TO_NONE
from exchangelib.properties import Attendee, Mailbox, OccurrenceItemId
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

from workers.connectors.ews.folder import BULK_SIZE, FolderGateway, as_utc
from workers.connectors.ews.items import is_private, read_body, sensitivity, write_body
from workers.connectors.ews.properties import TAG_FIELD
from workers.sync.core import recurrence
from workers.sync.core.occurrences import ModifiedOccurrence, sorted_exceptions
from workers.sync.core.planner import CreateInOutlook, RemoteItem, UpdateOutlook
from workers.sync.core.ports import MailboxListing, RemoteCreated
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
_EXCEPTION_FIELDS = ["subject", "location", "start", "end", "original_start", "is_all_day"]
_EXCEPTION_FIELDS += ["_start_timezone", "_end_timezone"]
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


def _when(value: Any, zone: tzinfo | None) -> Value:
    """An exchangelib start or end: a date (all-day) or an instant."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return str(value.isoformat())


def _original(value: datetime | None, all_day: bool, zone: tzinfo) -> Value:
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
            "start": _when(item.start, zone),
            "end": _when(item.end, zone),
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
        exdates = [_original(d.start, all_day, zone) for d in item.deleted_occurrences or ()]
        # Subject and location come with the exceptions' own fetch (CalendarGateway).
        modified = [
            ModifiedOccurrence(
                _original(o.original_start, all_day, zone),
                _original(o.start, all_day, zone),
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
        return _original(value, all_day, zone)
    local = value.astimezone(zone)
    return date.fromordinal(local.date().toordinal() - 1).isoformat()


def _first_day(record: Record, zone: tzinfo) -> date:
    start = record.get("start")
    if isinstance(start, str):
        return date.fromisoformat(start)
    assert isinstance(start, datetime)
    return start.astimezone(zone).date()


def _first_start(record: Record) -> datetime | date:
    start = record.get("start")
    return date.fromisoformat(start) if isinstance(start, str) else start  # type: ignore[return-value]


@dataclass(frozen=True)
class _Series:
    remote_id: str
    rule: str
    first_start: datetime | date
    zone: tzinfo


class CalendarGateway(FolderGateway):
    """The calendar folder, completing series with their exceptions and writing them back."""

    codec: CalendarCodec

    def __init__(self, account: Any, folder: Any, codec: CalendarCodec) -> None:
        super().__init__(account, folder, codec)
        self.series_zones: dict[str, tzinfo] = {}
        self._exception_ids: dict[str, list[str]] = {}

    @staticmethod
    def write_group(record: Record) -> bool:
        """Series travel together: each batch holding one costs occurrence requests."""
        return bool(record.get("recurrence") or record.get(EXDATES) or record.get(OCCURRENCES))

    def _remote_item(self, item: Any, base: Record) -> RemoteItem:
        self.series_zones[item.id] = self.codec.series_zone(item)
        ids = [o.id for o in getattr(item, "modified_occurrences", None) or ()]
        if ids:
            self._exception_ids[item.id] = ids
        return super()._remote_item(item, base)

    def list_changes(self, sync_state: str | None, bases: Mapping[str, Record]) -> MailboxListing:
        listing = super().list_changes(sync_state, bases)
        self._complete_series(listing.changes)
        return listing

    def fetch(
        self, remote_ids: Sequence[str], bases: Mapping[str, Record]
    ) -> dict[str, RemoteItem | None]:
        fetched = super().fetch(remote_ids, bases)
        self._complete_series(fetched)
        return fetched

    def _complete_series(self, changes: dict[str, RemoteItem | None]) -> None:
        """Adds the exceptions' subjects and locations, in one bulk fetch for all series."""
        wanted = {
            master_id: ids
            for master_id, ids in self._exception_ids.items()
            if changes.get(master_id) is not None
        }
        self._exception_ids = {}
        if not wanted or OCCURRENCES not in self.codec.fields:
            return
        pairs = [(master_id, i) for master_id, ids in wanted.items() for i in ids]
        results = self.account.fetch(
            ids=[(i, None) for _, i in pairs], only_fields=_EXCEPTION_FIELDS, chunk_size=BULK_SIZE
        )
        found: dict[str, list[ModifiedOccurrence]] = {}
        for (master_id, _), result in zip(pairs, results, strict=True):
            if isinstance(result, Exception):
                raise result
            zone = self.series_zones.get(master_id, self.codec.zone)
            all_day = bool(result.is_all_day)
            found.setdefault(master_id, []).append(
                ModifiedOccurrence(
                    _original(result.original_start, all_day, zone),
                    _when(result.start, zone),
                    _when(result.end, zone),
                    text(result.subject),
                    text(result.location),
                )
            )
        for master_id, occurrences in found.items():
            item = changes[master_id]
            assert item is not None
            record = {**item.record, OCCURRENCES: sorted_exceptions(occurrences)}
            changes[master_id] = replace(item, record=record)

    # --- writing series ------------------------------------------------------------------

    def create_many(self, items: Sequence[CreateInOutlook]) -> Sequence[RemoteCreated | Exception]:
        created = super().create_many(items)
        for result in created:
            if isinstance(result, RemoteCreated):
                self.series_zones[result.remote_id] = self.codec.zone
        self._write_occurrences(
            [
                (result.remote_id, item.record, None)
                for item, result in zip(items, created, strict=True)
                if isinstance(result, RemoteCreated)
            ]
        )
        return created

    def update_many(self, items: Sequence[UpdateOutlook]) -> Sequence[str | Exception | None]:
        prepared = [self._resetting_series(item) for item in items]
        results = super().update_many(prepared)
        self._write_occurrences(
            [
                (item.remote_id, item.full_record, item.current)
                for item, result in zip(prepared, results, strict=True)
                if not isinstance(result, Exception)
                and {"recurrence", EXDATES, OCCURRENCES} & set(item.changes)
            ]
        )
        return results

    @staticmethod
    def _resetting_series(item: UpdateOutlook) -> UpdateOutlook:
        """Rewrites the pattern when an occurrence must come back: Exchange has no "undelete"
        and no "unmodify", but setting the pattern again clears deletions and exceptions."""
        if "recurrence" in item.changes or not ({EXDATES, OCCURRENCES} & set(item.changes)):
            return item
        previous, full = item.current, item.full_record
        restored = set(members(previous.get(EXDATES))) - set(members(full.get(EXDATES)))
        kept = {_original_of(v) for v in members(full.get(OCCURRENCES))}
        unmodified = {_original_of(v) for v in members(previous.get(OCCURRENCES))} - kept
        if not restored and not unmodified:
            return item
        return replace(item, changes={**item.changes, "recurrence": full.get("recurrence")})

    def _write_occurrences(self, series: Sequence[tuple[str, Record, Record | None]]) -> None:
        """Deletes and modifies occurrences so each series matches its record."""
        deletions: list[CalendarItem] = []
        updates: list[tuple[CalendarItem, list[str]]] = []
        for remote_id, record, previous in series:
            rule = record.get("recurrence")
            if not isinstance(rule, str):
                continue
            # A new pattern (or a new series) starts with no deletions and no exceptions.
            reset = previous is None or previous.get("recurrence") != rule
            before = previous if previous is not None and not reset else {}
            series_of = _Series(
                remote_id,
                rule,
                _first_start(record),
                self.series_zones.get(remote_id, self.codec.zone),
            )
            for original in set(members(record.get(EXDATES))) - set(members(before.get(EXDATES))):
                found = self._occurrence(series_of, original)
                if found is not None:
                    deletions.append(found)
            old = set(members(before.get(OCCURRENCES)))
            for value in members(record.get(OCCURRENCES)):
                if value in old:
                    continue
                modified = ModifiedOccurrence.from_value(value)
                found = self._occurrence(series_of, modified.original_start)
                if found is None:
                    continue
                fields = {**record, "start": modified.start, "end": modified.end}
                fields |= {"subject": modified.subject, "location": modified.location}
                names = ["start", "end", "subject", "location"]
                updates.append((found, self.codec.assign(found, fields, names, organizer=False)))
        if updates:
            self._raise_first(
                self.account.bulk_update(
                    items=updates,
                    send_meeting_invitations_or_cancellations=SEND_TO_NONE,
                    chunk_size=BULK_SIZE,
                )
            )
        if deletions:
            self._raise_first(
                self.account.bulk_delete(
                    ids=deletions,
                    send_meeting_cancellations=SEND_TO_NONE,
                    chunk_size=BULK_SIZE,
                )
            )

    def _occurrence(self, series: _Series, original: Any) -> CalendarItem | None:
        index = recurrence.instance_index(
            series.rule, series.first_start, series.zone, _as_start(original)
        )
        if index is None:
            return None
        return CalendarItem(
            account=self.account,
            folder=self.folder,
            _id=OccurrenceItemId(id=series.remote_id, changekey=None, instance_index=index),
        )

    @staticmethod
    def _raise_first(results: Any) -> None:
        for result in results:
            if isinstance(result, Exception):
                raise result


def _original_of(value: Value) -> Value:
    return value[0] if isinstance(value, tuple) else None


def _as_start(value: Any) -> datetime | date:
    return date.fromisoformat(value) if isinstance(value, str) else value
