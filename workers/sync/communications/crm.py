"""The CRM side of appointment and task synchronization (ports.CrmSide).

A user's items are the live communications of the entity's type linked to them in `comm_link`
(exception rows of a series belong to their master's record). Items the user may not send to
Outlook — `comm_crmonly`, private ones unless allowed, those an exclusion rule matches — are out
of scope: a linked one that becomes excluded reads as gone, so it leaves Outlook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, select, union
from sqlalchemy.orm import Session

from app.kit.chunks import chunked
from app.models.crm import (
    CommLink,
    Communication,
    live,
)
from app.templates.schemas import (
    DetailsContext,
)
from workers.sync.communications.columns import (
    MovedField,
    read_moved,
    take_moved,
    with_moved,
    write_moved,
)
from workers.sync.communications.related import Related, load_related
from workers.sync.communications.scope import OUTSIDE_WINDOW, Scope
from workers.sync.communications.writer import CommunicationWriter
from workers.sync.contacts.crm import WATERMARK_OVERLAP
from workers.sync.core.occurrences import ModifiedOccurrence
from workers.sync.core.planner import CrmItem, OutlookDeleteMode
from workers.sync.core.ports import CrmListing
from workers.sync.core.records import Record, Unreadable, Value, unreadable_on_error
from workers.sync.core.timezones import modified_from_crm
from workers.sync.core.values import OCCURRENCES, members
from workers.sync.crm_writes import in_savepoint


@dataclass(frozen=True)
class CommunicationKind:
    """The entity-specific parts: which rows, how they read and how records write them."""

    comm_type: str
    comm_action: str
    fields: frozenset[str]
    # (row, related) → record; record (whole) → communication columns
    to_record: Callable[[Communication, Related], dict[str, Value]]
    to_columns: Callable[[Record], dict[str, Any]]
    # The first-sync window (sync-rules) as a condition, given "now" and the window's start.
    window: Callable[[datetime, datetime], ColumnElement[bool]]
    # Text fields the administrator keeps in another column than the default.
    moved: tuple[MovedField, ...] = ()


class CrmCommunications:
    def __init__(
        self,
        db: Session,
        user_id: int,
        kind: CommunicationKind,
        scope: Scope,
        *,
        render_details: Callable[[DetailsContext], str] | None,
        crm_zone: tzinfo,
        window_days: int,
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.kind = kind
        self.scope = scope
        self.render_details = render_details
        self.crm_zone = crm_zone
        self.window_days = window_days
        self.writer = CommunicationWriter(db, user_id, crm_zone)

    # --- reading ---------------------------------------------------------------------------

    def _owned(self) -> Any:
        return (
            select(Communication.comm_communicationid)
            .join(
                CommLink, CommLink.cmli_comm_communicationid == Communication.comm_communicationid
            )
            .where(
                CommLink.cmli_comm_userid == self.user_id,
                live(CommLink),
                live(Communication),
                Communication.comm_type == self.kind.comm_type,
                Communication.comm_recurrenceid.is_(None),
            )
        )

    def _owned_ids(self, condition: ColumnElement[bool] | None = None) -> set[str]:
        query = self._owned()
        if condition is not None:
            query = query.where(condition)
        return {str(i) for i in self.db.scalars(query.distinct())}

    def _now(self) -> datetime:
        return datetime.now(self.crm_zone).replace(tzinfo=None)

    def list_changes(self, watermark: datetime | None, linked_ids: set[str]) -> CrmListing:
        """Changes since the watermark; with none, the first-sync window plus linked items."""
        if watermark is None:
            now = self._now()
            window = self.kind.window(now, now - timedelta(days=self.window_days))
            in_window = self._owned_ids(window)
            owned = self._owned_ids()
            items = self._items(in_window | (owned & linked_ids), linked_ids)
            outside = dict.fromkeys(owned - in_window - linked_ids, OUTSIDE_WINDOW)
            listed = {i: items.get(i) for i in in_window | linked_ids}
            return CrmListing(listed, complete=True, left_alone=outside)
        since = watermark - WATERMARK_OVERLAP
        changed = self._changed_ids(since)
        # Ownership is asked of the changed items only: deleting a communication or removing
        # the user's comm_link stamps the row, so a run's cost follows what changed.
        owned = self._owned_among(changed)
        items = self._items(owned, linked_ids)
        changes: dict[str, CrmItem | Unreadable | None] = {i: items.get(i) for i in owned}
        for crm_id in (linked_ids & changed) - owned:
            changes[crm_id] = None  # deleted, or no longer this user's
        return CrmListing(changes, complete=False)

    def _owned_among(self, crm_ids: set[str]) -> set[str]:
        ids = sorted(int(i) for i in crm_ids)
        owned: set[str] = set()
        for chunk in chunked(ids):
            owned |= self._owned_ids(Communication.comm_communicationid.in_(chunk))
        return owned

    def _changed_ids(self, since: datetime) -> set[str]:
        queries: list[Any] = [
            select(Communication.comm_communicationid).where(
                Communication.comm_type == self.kind.comm_type,
                Communication.updated_date >= since,
            ),
            select(Communication.comm_recurrenceid).where(
                Communication.comm_recurrenceid.is_not(None),
                Communication.updated_date >= since,
            ),
            select(CommLink.cmli_comm_communicationid).where(CommLink.updated_date >= since),
        ]
        ids = self.db.scalars(union(*queries), bind_arguments={"mapper": Communication})
        return {str(i) for i in ids if i is not None}

    def fetch(self, crm_ids: Iterable[str]) -> dict[str, CrmItem | Unreadable | None]:
        wanted = set(crm_ids)
        items = self._items(self._owned_among(wanted), wanted)
        return {i: items.get(i) for i in wanted}

    def _items(self, crm_ids: Iterable[str], linked: set[str]) -> dict[str, CrmItem | Unreadable]:
        ids = sorted(int(i) for i in crm_ids)
        items: dict[str, CrmItem | Unreadable] = {}
        for chunk in chunked(ids):
            rows = list(
                self.db.scalars(
                    select(Communication).where(Communication.comm_communicationid.in_(chunk))
                )
            )
            related = self._related(rows)
            moved = read_moved(self.db, self.kind.moved, chunk)
            for row in rows:
                if self.scope.excluded(row, linked=str(row.comm_communicationid) in linked):
                    continue
                moved_values = moved.get(row.comm_communicationid, {})
                read = partial(self._item, row, related, moved_values)
                items[str(row.comm_communicationid)] = unreadable_on_error(read)
        return items

    def _item(
        self, row: Communication, related: dict[int, Related], moved: Mapping[str, Any]
    ) -> CrmItem:
        record = with_moved(
            self.kind.to_record(row, related[row.comm_communicationid]), self.kind.moved, moved
        )
        return CrmItem(str(row.comm_communicationid), record, self._modified(row, related))

    def _modified(self, row: Communication, related: dict[int, Related]) -> datetime:
        stamps = [row.updated_date] + [
            e.updated_date for e in related[row.comm_communicationid].exceptions
        ]
        latest = max((s for s in stamps if s is not None), default=None)
        return modified_from_crm(latest, self.crm_zone)

    # --- writing -----------------------------------------------------------------------------

    def _related(self, rows: Sequence[Communication]) -> dict[int, Related]:
        return load_related(
            self.db,
            self.user_id,
            rows,
            with_exceptions=OCCURRENCES in self.kind.fields,
            render_details=self.render_details,
        )

    def _current(self, row: Communication) -> dict[str, Value]:
        comm_id = row.comm_communicationid
        return with_moved(
            self.kind.to_record(row, self._related([row])[comm_id]),
            self.kind.moved,
            read_moved(self.db, self.kind.moved, [comm_id]).get(comm_id, {}),
        )

    @in_savepoint
    def create(self, record: Record, replaces: str | None) -> str:
        row = self.db.get(Communication, int(replaces)) if replaces else None
        if row is None or row.comm_type != self.kind.comm_type:
            row = Communication(
                comm_type=self.kind.comm_type,
                comm_action=self.kind.comm_action,
                comm_status="Pending",
            )
            self.writer.stamp(row, created=True)
            self.db.add(row)
            self.db.flush()
        row.deleted = None
        self._write(row, record, set(record))
        self.writer.link(row.comm_communicationid, cmli_comm_userid=self.user_id)
        return str(row.comm_communicationid)

    @in_savepoint
    def update(self, crm_id: str, changes: Record) -> None:
        row = self.db.get(Communication, int(crm_id))
        if row is None or row.deleted == 1:
            raise LookupError(f"communication {crm_id} no longer exists in the CRM")
        self._write(row, {**self._current(row), **changes}, set(changes))

    @in_savepoint
    def delete(self, crm_id: str, mode: OutlookDeleteMode) -> None:
        if mode is not OutlookDeleteMode.DELETE:
            return  # unlink: the record stays as it is
        row = self.db.get(Communication, int(crm_id))
        if row is None or row.deleted == 1:
            return
        for exception in self.writer.exception_rows(row.comm_communicationid):
            exception.deleted = 1
            self.writer.stamp(exception, created=False)
        row.deleted = 1
        self.writer.stamp(row, created=False)

    def _write(self, row: Communication, record: Record, changed: set[str]) -> None:
        columns = self.kind.to_columns(record)
        moved = take_moved(columns, self.kind.moved)
        for column, value in columns.items():
            setattr(row, column, value)
        self.writer.stamp(row, created=False)
        self.db.flush()
        write_moved(self.db, row.comm_communicationid, moved)
        if "attendees" in changed:
            attendees = members(record.get("attendees"))
            self.writer.write_attendees(
                row.comm_communicationid, [a for a in attendees if isinstance(a, str)]
            )
        if OCCURRENCES in changed or "recurrence" in changed:
            values = members(record.get(OCCURRENCES)) if record.get("recurrence") else ()
            self.writer.write_exceptions(row, [ModifiedOccurrence.from_value(v) for v in values])
        self.db.flush()
