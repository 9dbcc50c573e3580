"""Exchange tasks ↔ task records, and the Tasks folder as the engine's remote side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from exchangelib import EWSDate, EWSDateTime, Task

from workers.connectors.ews.folder import FolderGateway, as_utc
from workers.connectors.ews.items import is_private, read_body, sensitivity, write_body
from workers.connectors.ews.properties import TAG_FIELD
from workers.sync.core.planner import RemoteItem
from workers.sync.core.records import Record, Value
from workers.sync.core.task_status import StatusMap, percent
from workers.sync.core.values import importance, text

_READ = {
    "subject": ("subject",),
    "body": ("body",),
    "due_date": ("due_date",),
    "start_date": ("start_date",),
    "reminder": ("reminder_is_set", "reminder_due_by"),
    "importance": ("importance",),
    "status": ("status",),
    "percent_complete": ("percent_complete", "status"),
    "complete_date": ("complete_date",),
    "private": ("sensitivity",),
}


def _day(value: Any) -> str | None:
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


@dataclass(frozen=True)
class TaskCodec:
    fields: frozenset[str]
    statuses: StatusMap
    zone: ZoneInfo

    @property
    def only_fields(self) -> list[str]:
        wanted = {TAG_FIELD, "last_modified_time", "status"}
        for name in self.fields:
            wanted.update(_READ.get(name, ()))
        return sorted(wanted)

    def to_record(self, item: Task, known_status: Value = None) -> dict[str, Value]:
        status = self.statuses.to_crm(item.status, known_status)
        values: dict[str, Value] = {
            "subject": text(item.subject),
            "due_date": _day(item.due_date),
            "start_date": _day(item.start_date),
            "reminder": as_utc(item.reminder_due_by) if item.reminder_is_set else None,
            "importance": importance(item.importance),
            "status": status,
            "percent_complete": percent(
                float(item.percent_complete or 0), item.status == "Completed"
            ),
            "complete_date": as_utc(item.complete_date) if item.complete_date else None,
            "private": is_private(item),
        }
        read_body(item, self.fields, values)
        return {name: value for name, value in values.items() if name in self.fields}

    def tag_of(self, item: Task) -> str | None:
        tag = getattr(item, TAG_FIELD, None)
        return str(tag) if tag else None

    def new_item(self, record: Record, tag: str, account: Any, folder: Any) -> Task:
        item = Task(account=account, folder=folder)
        self.assign(item, record, list(record))
        setattr(item, TAG_FIELD, tag)
        return item

    def changed_item(
        self, item_id: str, change_key: str | None, full: Record, changed: Sequence[str]
    ) -> tuple[Task, list[str]]:
        item = Task(id=item_id, changekey=change_key)
        return item, self.assign(item, full, changed)

    def assign(self, item: Task, record: Record, names: Sequence[str]) -> list[str]:
        fieldnames: list[str] = []
        if "subject" in names:
            item.subject = text(record.get("subject"))
            fieldnames.append("subject")
        if "body" in names or "details" in names:
            item.body = write_body(record)
            fieldnames.append("body")
        for name in ("due_date", "start_date"):
            if name in names:
                value = record.get(name)
                setattr(
                    item, name, EWSDate.fromisoformat(value) if isinstance(value, str) else None
                )
                fieldnames.append(name)
        if "reminder" in names:
            due = record.get("reminder")
            item.reminder_is_set = isinstance(due, datetime)
            item.reminder_due_by = (
                EWSDateTime.from_datetime(due) if isinstance(due, datetime) else None
            )
            fieldnames += ["reminder_is_set", "reminder_due_by"]
        if "importance" in names:
            item.importance = importance(str(record.get("importance") or ""))
            fieldnames.append("importance")
        if "status" in names or "percent_complete" in names:
            status = self.statuses.to_outlook(str(record.get("status") or "Pending"))
            item.status = status
            done = percent(record.get("percent_complete"), status == "Completed")
            item.percent_complete = Decimal(done)
            fieldnames += ["status", "percent_complete"]
        if "private" in names:
            item.sensitivity = sensitivity(record)
            fieldnames.append("sensitivity")
        return fieldnames


class TaskGateway(FolderGateway):
    """The Tasks folder; reads statuses against what the item last synchronized as."""

    codec: TaskCodec

    def _remote_item(self, item: Any, base: Record) -> RemoteItem:
        remote = super()._remote_item(item, base)
        return replace(remote, record=self.codec.to_record(item, base.get("status")))
