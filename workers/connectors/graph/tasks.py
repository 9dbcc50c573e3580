"""Microsoft To Do tasks (Graph) ↔ task records.

To Do tasks carry no extended properties: the CRM id travels in a linked resource
(applicationName crmsync, externalId the CRM id). To Do has no percentage and no privacy: those
fields read as what the task last synchronized as (its base), so they never flip-flop; a
completed task reads 100%. Statuses map through the admin's status mapping, the base's status
winning where the To Do status stands for it (Waiting on others and Deferred both read as
Pending).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from workers.sync.core.details import join_body, split_body
from workers.sync.core.records import Record, Value
from workers.sync.core.task_status import StatusMap, percent
from workers.sync.core.values import DETAILS, importance, text

APPLICATION = "crmsync"
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div)\b[^>]*>", re.IGNORECASE)
_SELECT = (
    "id,title,body,status,importance,dueDateTime,startDateTime,isReminderOn,"
    "reminderDateTime,completedDateTime,lastModifiedDateTime"
)


def _outlook_status(graph_status: str | None) -> str:
    """To Do's camelCase status as the mapping's Outlook status (notStarted → NotStarted)."""
    value = graph_status or "notStarted"
    return value[:1].upper() + value[1:]


def _graph_status(outlook_status: str) -> str:
    return outlook_status[:1].lower() + outlook_status[1:]


def _day(value: Any) -> str | None:
    """The date a To Do date-time names (To Do keeps due and start dates at midnight)."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    return str(value["dateTime"])[:10]


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    head = str(value["dateTime"]).split(".")[0].rstrip("Z")
    moment = datetime.fromisoformat(head)
    zone = value.get("timeZone") or "UTC"
    aware = moment.replace(tzinfo=UTC if zone.upper() == "UTC" else ZoneInfo(zone))
    return aware.astimezone(UTC)


def _utc(value: datetime) -> dict[str, str]:
    return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def _body_text(body: Any) -> str | None:
    if not isinstance(body, dict) or not body.get("content"):
        return None
    content = str(body["content"])
    if body.get("contentType") == "html":
        return html.unescape(_TAG.sub("", _BREAK.sub("\n", content)))
    return content


@dataclass(frozen=True)
class GraphTaskCodec:
    fields: frozenset[str]
    statuses: StatusMap

    @property
    def query(self) -> dict[str, str]:
        return {"$select": _SELECT, "$expand": "linkedResources"}

    def to_record(self, item: Mapping[str, Any], base: Record) -> dict[str, Value]:
        status = self.statuses.to_crm(_outlook_status(item.get("status")), base.get("status"))
        completed = item.get("status") == "completed"
        known_percent = base.get("percent_complete")
        values: dict[str, Value] = {
            "subject": text(item.get("title")),
            "due_date": _day(item.get("dueDateTime")),
            "start_date": _day(item.get("startDateTime")),
            "reminder": _instant(item.get("reminderDateTime"))
            if item.get("isReminderOn")
            else None,
            "importance": importance(item.get("importance")),
            "status": status,
            "percent_complete": percent(known_percent, completed),
            "complete_date": _instant(item.get("completedDateTime")),
            "private": bool(base.get("private")),
        }
        values["body"], values[DETAILS] = split_body(_body_text(item.get("body")))
        return {name: value for name, value in values.items() if name in self.fields}

    def tag_of(self, item: Mapping[str, Any]) -> str | None:
        for link in item.get("linkedResources") or []:
            if isinstance(link, dict) and link.get("applicationName") == APPLICATION:
                return str(link.get("externalId") or "") or None
        return None

    def tag_filter(self, tag: str) -> str | None:
        return None  # To Do cannot filter by linked resource: the folder scans the list

    def new_body(self, record: Record, tag: str) -> dict[str, Any]:
        body = self._assign(record, list(record))
        body.setdefault("title", text(record.get("subject")) or "(no subject)")
        body["linkedResources"] = [
            {"applicationName": APPLICATION, "displayName": f"CRM task {tag}", "externalId": tag}
        ]
        return body

    def changed_body(
        self, full: Record, changed: Sequence[str], retag: str | None
    ) -> dict[str, Any]:
        # A linked resource is not changed by a PATCH; a stale one stays until the task goes.
        return self._assign(full, changed)

    def _assign(self, record: Record, names: Sequence[str]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if "subject" in names:
            body["title"] = text(record.get("subject")) or "(no subject)"
        if "body" in names or DETAILS in names:
            note, details = record.get("body"), record.get(DETAILS)
            content = join_body(
                note if isinstance(note, str) else None,
                details if isinstance(details, str) else None,
            )
            body["body"] = {"content": content, "contentType": "text"}
        for name, key in (("due_date", "dueDateTime"), ("start_date", "startDateTime")):
            if name in names:
                value = record.get(name)
                body[key] = (
                    {"dateTime": f"{value}T00:00:00", "timeZone": "UTC"}
                    if isinstance(value, str)
                    else None
                )
        if "reminder" in names:
            due = record.get("reminder")
            body["isReminderOn"] = isinstance(due, datetime)
            body["reminderDateTime"] = _utc(due) if isinstance(due, datetime) else None
        if "importance" in names:
            body["importance"] = importance(str(record.get("importance") or "")).lower()
        if "status" in names:
            status = self.statuses.to_outlook(str(record.get("status") or "Pending"))
            body["status"] = _graph_status(status)
        return body
