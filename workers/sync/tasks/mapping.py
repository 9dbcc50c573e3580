"""Tasks in canonical form: communication rows ↔ records keyed by Outlook field names.

The status mapping is not one to one (Waiting on someone else and Deferred both read as
Pending), so a record's "status" is always a CRM status: Outlook statuses are mapped into it
when read, and an Outlook status that already stands for the record's status is left alone.
A task left Deferred in Outlook therefore never flip-flops.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from app.mappings.schemas import CrmTaskStatus
from app.models.crm import FLAG_SET, Communication
from workers.sync.core.details import normalize_text
from workers.sync.core.planner import Direction
from workers.sync.core.records import Record, Value
from workers.sync.core.task_status import StatusMap, crm_status, percent
from workers.sync.core.timezones import crm_from_date, crm_from_utc, date_in_zone, utc_from_crm
from workers.sync.core.values import DETAILS, ItemMapping, importance, text

COMM_TYPE = "Task"
COMM_ACTION = "ToDo"
# Exchange stamps the completion time itself (it is read-only through EWS).
FORCED_DIRECTIONS = {"complete_date": Direction.OUTLOOK_TO_CRM}
OPEN_STATUSES = (CrmTaskStatus.PENDING.value, CrmTaskStatus.IN_PROGRESS.value)


def task_record(
    row: Communication,
    *,
    details: str | None,
    statuses: StatusMap,
    crm_zone: tzinfo,
    user_zone: tzinfo,
    mapping: ItemMapping,
) -> dict[str, Value]:
    status = crm_status(row.comm_status)
    record: dict[str, Value] = {
        "subject": text(row.comm_subject),
        "body": normalize_text(row.comm_note),
        DETAILS: details,
        "due_date": date_in_zone(utc_from_crm(row.comm_datetime, crm_zone), user_zone),
        "start_date": date_in_zone(utc_from_crm(row.comm_todatetime, crm_zone), user_zone),
        "reminder": utc_from_crm(row.comm_notifytime, crm_zone),
        "importance": importance(row.comm_priority),
        "status": status,
        "percent_complete": percent(row.comm_percentcomplete, statuses.completes(status)),
        "complete_date": utc_from_crm(row.comm_completedtime, crm_zone),
        "private": row.comm_private == FLAG_SET,
    }
    return mapping.only(record)


def task_columns(record: Record, crm_zone: tzinfo, user_zone: tzinfo) -> dict[str, Any]:
    """The communication columns a (whole) record sets."""
    dates = {"due_date": "comm_datetime", "start_date": "comm_todatetime"}
    plain = {
        "subject": "comm_subject",
        "body": "comm_note",
        "importance": "comm_priority",
        "status": "comm_status",
        "percent_complete": "comm_percentcomplete",
    }
    columns: dict[str, Any] = {plain[name]: record[name] for name in plain if name in record}
    for name, column in dates.items():
        if name in record:
            value = record[name]
            columns[column] = crm_from_date(
                value if isinstance(value, str) else None, user_zone, crm_zone
            )
    for name, column in (("reminder", "comm_notifytime"), ("complete_date", "comm_completedtime")):
        if name in record:
            value = record[name]
            columns[column] = crm_from_utc(value, crm_zone) if isinstance(value, datetime) else None
    if "private" in record:
        columns["comm_private"] = FLAG_SET if record["private"] else None
    return columns


def task_match_keys(record: Record) -> Sequence[Hashable | None]:
    """After a state reset: the same subject and due date (the spec names no task key)."""
    subject = record.get("subject")
    if not isinstance(subject, str):
        return (None,)
    return ((subject.casefold(), record.get("due_date")),)


def in_first_sync_window(record: Record, modified: datetime, now: datetime, days: int) -> bool:
    """sync-rules: tasks modified in the last `days`, and every Pending or In Progress one."""
    return record.get("status") in OPEN_STATUSES or modified >= now - timedelta(days=days)
