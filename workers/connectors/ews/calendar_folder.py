"""The calendar folder as the sync core's MailboxFolder: series completed with their exceptions
when read, written as the master, then occurrence updates and deletions.

Meeting invitations and cancellations are never sent (SEND_TO_NONE throughout).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Any

from exchangelib import CalendarItem
from exchangelib.items import SEND_TO_NONE
from exchangelib.properties import OccurrenceItemId

from workers.connectors.ews.calendar import (
    EXCEPTION_FIELDS,
    CalendarCodec,
    read_original,
    read_when,
)
from workers.connectors.ews.folder import BULK_SIZE, FolderGateway
from workers.sync.core import recurrence
from workers.sync.core.actions import CreateInOutlook, UpdateOutlook
from workers.sync.core.occurrences import ModifiedOccurrence, sorted_exceptions
from workers.sync.core.ports import MailboxListing, RemoteCreated
from workers.sync.core.records import Record, RemoteItem, Unreadable, Value
from workers.sync.core.values import EXDATES, OCCURRENCES, members, text


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
        changes = dict(listing.changes)
        self._complete_series(changes)
        return replace(listing, changes=changes)

    def fetch(
        self, remote_ids: Sequence[str], bases: Mapping[str, Record]
    ) -> dict[str, RemoteItem | Unreadable | None]:
        fetched = super().fetch(remote_ids, bases)
        self._complete_series(fetched)
        return fetched

    def _complete_series(self, changes: dict[str, RemoteItem | Unreadable | None]) -> None:
        """Adds the exceptions' subjects and locations, in one bulk fetch for all series."""
        wanted = {
            master_id: ids
            for master_id, ids in self._exception_ids.items()
            if isinstance(changes.get(master_id), RemoteItem)
        }
        self._exception_ids = {}
        if not wanted or OCCURRENCES not in self.codec.fields:
            return
        pairs = [(master_id, i) for master_id, ids in wanted.items() for i in ids]
        results = self.account.fetch(
            ids=[(i, None) for _, i in pairs], only_fields=EXCEPTION_FIELDS, chunk_size=BULK_SIZE
        )
        found: dict[str, list[ModifiedOccurrence]] = {}
        for (master_id, _), result in zip(pairs, results, strict=True):
            if isinstance(result, Exception):
                raise result
            zone = self.series_zones.get(master_id, self.codec.zone)
            all_day = bool(result.is_all_day)
            found.setdefault(master_id, []).append(
                ModifiedOccurrence(
                    read_original(result.original_start, all_day, zone),
                    read_when(result.start, zone),
                    read_when(result.end, zone),
                    text(result.subject),
                    text(result.location),
                )
            )
        for master_id, occurrences in found.items():
            item = changes[master_id]
            assert isinstance(item, RemoteItem)
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
