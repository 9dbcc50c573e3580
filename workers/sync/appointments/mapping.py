"""Appointments in canonical form: communication rows ↔ records keyed by Outlook field names.

A recurring series is one record: its pattern ("recurrence", a canonical RRULE), its deleted
occurrences ("exdates": original starts) and its modified occurrences ("occurrences": sorted
tuples of original start, start, end, subject, location), so the planner merges a series like
any item. Timed starts and ends are aware UTC; all-day ones are ISO dates (see timezones).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from app.models.crm import FLAG_SET, Communication
from workers.sync.core import recurrence
from workers.sync.core.details import normalize_text
from workers.sync.core.occurrences import ModifiedOccurrence, sorted_exceptions
from workers.sync.core.planner import Direction
from workers.sync.core.records import Record, Value
from workers.sync.core.timezones import (
    all_day_from_crm,
    crm_from_all_day,
    crm_from_utc,
    minutes_before,
    utc_from_crm,
)
from workers.sync.core.values import (
    DETAILS,
    EXDATES,
    OCCURRENCES,
    ItemMapping,
    email,
    importance,
    members,
    text,
)

COMM_TYPE = "Appointment"
COMM_ACTION = "Meeting"
# Exchange sets the organizer itself; attendees are the organizer's to change (see codec).
FORCED_DIRECTIONS = {"organizer": Direction.OUTLOOK_TO_CRM}


def times_from_crm(
    start: datetime | None, end: datetime | None, all_day: bool, crm_zone: tzinfo
) -> tuple[Value, Value]:
    if all_day:
        return all_day_from_crm(start, end)
    return utc_from_crm(start, crm_zone), utc_from_crm(end, crm_zone)


def times_to_crm(
    start: Value, end: Value, crm_zone: tzinfo
) -> tuple[datetime | None, datetime | None]:
    if isinstance(start, str):
        return crm_from_all_day(start, end if isinstance(end, str) else start)
    return (
        crm_from_utc(start, crm_zone) if isinstance(start, datetime) else None,
        crm_from_utc(end, crm_zone) if isinstance(end, datetime) else None,
    )


def _series_start(row: Communication, all_day: bool, crm_zone: tzinfo) -> datetime | date | None:
    """The series' DTSTART: the CRM's naive start is local time in the CRM's zone."""
    if row.comm_datetime is None:
        return None
    return row.comm_datetime.date() if all_day else row.comm_datetime.replace(tzinfo=crm_zone)


def appointment_record(
    row: Communication,
    *,
    attendees: Sequence[str],
    exceptions: Sequence[ModifiedOccurrence],
    details: str | None,
    crm_zone: tzinfo,
    mapping: ItemMapping,
    owner: str | None,
) -> dict[str, Value]:
    """`owner`: the mailbox, the organizer of an appointment that names none (as Exchange
    makes the mailbox the organizer of an item created in it)."""
    all_day = row.comm_isalldayevent == FLAG_SET
    start, end = times_from_crm(row.comm_datetime, row.comm_todatetime, all_day, crm_zone)
    rule, exdates = (
        recurrence.split_rule_text(row.comm_recurrencerule, _series_start(row, all_day, crm_zone))
        if row.comm_recurrencerule
        else (None, ())
    )
    record: dict[str, Value] = {
        "subject": text(row.comm_subject),
        "location": text(row.comm_location),
        "start": start,
        "end": end,
        "is_all_day": all_day,
        "body": normalize_text(row.comm_note),
        DETAILS: details,
        "reminder": minutes_before(row.comm_datetime, row.comm_notifytime),
        "private": row.comm_private == FLAG_SET,
        "organizer": email(row.comm_organizer) or owner,
        "importance": importance(row.comm_priority),
        "attendees": tuple(sorted(set(attendees))),
        "recurrence": rule,
        EXDATES: exdates if rule else (),
        OCCURRENCES: sorted_exceptions(exceptions) if rule else (),
    }
    return mapping.only(record)


def appointment_columns(record: Record, crm_zone: tzinfo) -> dict[str, Any]:
    """The communication columns a (whole) record sets; attendees and exceptions aside."""
    columns: dict[str, Any] = {}
    if "subject" in record:
        columns["comm_subject"] = record["subject"]
    if "location" in record:
        columns["comm_location"] = record["location"]
    if "body" in record:
        columns["comm_note"] = record["body"]
    if "start" in record:
        start, end = times_to_crm(record["start"], record.get("end"), crm_zone)
        columns["comm_datetime"], columns["comm_todatetime"] = start, end
        columns["comm_isalldayevent"] = FLAG_SET if isinstance(record["start"], str) else None
        reminder = record.get("reminder")
        if "reminder" in record:
            columns["comm_notifytime"] = (
                start - timedelta(minutes=reminder)
                if isinstance(reminder, int) and start is not None
                else None
            )
    if "private" in record:
        columns["comm_private"] = FLAG_SET if record["private"] else None
    if "organizer" in record:
        columns["comm_organizer"] = record["organizer"]
    if "importance" in record:
        columns["comm_priority"] = record["importance"]
    if "recurrence" in record:
        rule = record["recurrence"]
        exdates = [v for v in members(record.get(EXDATES)) if isinstance(v, datetime | str)]
        columns["comm_recurrencerule"] = (
            recurrence.compose_rule_text(rule, exdates) if isinstance(rule, str) else None
        )
    return columns


def appointment_match_keys(record: Record) -> Sequence[Hashable | None]:
    """First-sync matching (sync-rules): subject, start, end and all-day."""
    subject = record.get("subject")
    if not isinstance(subject, str) or record.get("start") is None:
        return (None,)
    return ((subject.casefold(), record.get("start"), record.get("end"), record.get("is_all_day")),)


def in_first_sync_window(record: Record, modified: datetime, now: datetime, days: int) -> bool:
    """sync-rules: every recurring appointment; modified in the last `days`; ending in them."""
    since = now - timedelta(days=days)
    if record.get("recurrence") or modified >= since:
        return True
    end = record.get("end")
    if isinstance(end, str):
        return since.date() <= date.fromisoformat(end) <= now.date()
    return isinstance(end, datetime) and since <= end <= now
