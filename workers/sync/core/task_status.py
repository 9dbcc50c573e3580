"""Task statuses in records: always a CRM status, read from Outlook through the admin's mapping.

Part of the canonical task record shared by the CRM side and every connector. The status mapping
is not one to one (Waiting on someone else and Deferred both read as Pending), so an Outlook
status that already stands for the record's status is left alone: a task left Deferred in
Outlook never flip-flops.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.mappings.schemas import CrmTaskStatus, OutlookTaskStatus, TaskStatusMapping
from workers.sync.core.records import Value


@dataclass(frozen=True)
class StatusMap:
    mapping: TaskStatusMapping

    def to_outlook(self, crm_status: str) -> str:
        return self.mapping.to_outlook[CrmTaskStatus(crm_status)].value

    def to_crm(self, outlook_status: str | None, known: Value = None) -> str:
        """The CRM status an Outlook status reads as; `known` wins where it maps to it."""
        status = OutlookTaskStatus(outlook_status or OutlookTaskStatus.NOT_STARTED.value)
        is_crm_status = isinstance(known, str) and known == crm_status(known)
        if is_crm_status and self.mapping.to_outlook[CrmTaskStatus(str(known))] is status:
            return str(known)
        return self.mapping.to_crm[status].value

    def completes(self, crm_status: str) -> bool:
        return self.to_outlook(crm_status) == OutlookTaskStatus.COMPLETED.value


def crm_status(value: str | None) -> str:
    for status in CrmTaskStatus:
        if value and value.strip().casefold() == status.value.casefold():
            return status.value
    return CrmTaskStatus.PENDING.value


def percent(value: object, completed: bool) -> int:
    """Exchange's rule: a completed task is 100% done; otherwise 0 to 99."""
    if completed:
        return 100
    number = int(value) if isinstance(value, int | float) else 0
    return max(0, min(99, number))
