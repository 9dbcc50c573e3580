"""Which of a user's communications take part: scope rules and first-sync windows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, inspect, or_

from app.exclusions.schemas import ExclusionRule
from app.exclusions.service import is_excluded
from app.models.crm import FLAG_SET, Communication

OUTSIDE_WINDOW = "left alone: outside the first synchronization's window"
_COLUMN_KEYS = {
    column.name: attribute.key
    for attribute in inspect(Communication).column_attrs
    for column in attribute.columns
}


@dataclass(frozen=True)
class Scope:
    """Which of the user's items may go to Outlook."""

    sync_private: bool
    rules: Sequence[ExclusionRule]

    def excluded(self, row: Communication, *, linked: bool) -> str | None:
        if row.comm_crmonly == FLAG_SET:
            return "marked CRM-only"
        # Privacy keeps new items out of Outlook; an item already there that turns private
        # (often in Outlook itself) stays, or marking it private would delete it from Outlook.
        if row.comm_private == FLAG_SET and not self.sync_private and not linked:
            return "private"
        rule = is_excluded(
            self.rules, {name: getattr(row, key) for name, key in _COLUMN_KEYS.items()}
        )
        return f"excluded by rule {rule.id}" if rule else None


def appointment_window(now: datetime, since: datetime) -> ColumnElement[bool]:
    """Every recurring appointment; modified in the window; ending in the window."""
    return or_(
        Communication.comm_recurrencerule.is_not(None),
        Communication.updated_date >= since,
        and_(Communication.comm_todatetime >= since, Communication.comm_todatetime <= now),
    )


def task_window(now: datetime, since: datetime) -> ColumnElement[bool]:
    """Tasks modified in the window, and every Pending or In Progress one."""
    return or_(
        Communication.updated_date >= since,
        Communication.comm_status.in_(("Pending", "In Progress")),
    )
