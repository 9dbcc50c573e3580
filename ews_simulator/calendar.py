"""Calendar semantics: recurring masters, occurrences, exceptions and calendar views.

An occurrence is never stored: it is rendered from its master on demand and addressed by an id
that encodes master and instance index. Changing an occurrence stores an exception on the master
under that same id; deleting one records the instance index as deleted.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, tzinfo

from ews_simulator.ids import check_id
from ews_simulator.items import item_id_element, text_value
from ews_simulator.recurrence import Occurrence, RecurrenceError, Series, time_zone_id
from ews_simulator.soap import EwsError
from ews_simulator.store import Item, Mailbox
from ews_simulator.timezones import zone
from ews_simulator.xml import Element, format_datetime, parse_datetime, t

OCCURRENCE_PREFIX = "OCC"
RECURRING_MASTER = "RecurringMaster"


def occurrence_id(master_id: str, index: int) -> str:
    return f"{OCCURRENCE_PREFIX}{index}_{master_id}"


def split_occurrence_id(item_id: str) -> tuple[str, int] | None:
    if not item_id.startswith(OCCURRENCE_PREFIX):
        return None
    index, sep, master_id = item_id[len(OCCURRENCE_PREFIX) :].partition("_")
    if not sep or not index.isdigit():
        return None
    return master_id, int(index)


def series(item: Item) -> Series | None:
    recurrence = item.fields.get("Recurrence")
    if item.kind != "CalendarItem" or recurrence is None or item.master_id is not None:
        return None
    try:
        return Series.parse(recurrence)
    except (RecurrenceError, ValueError) as e:
        raise EwsError("ErrorInvalidRecurrence", str(e)) from e


def validate(item: Item) -> None:
    """Reject calendar items Exchange would reject: inverted times, bad recurrence."""
    if item.kind != "CalendarItem":
        return
    start, end = _times(item)
    if start is not None and end is not None and end < start:
        raise EwsError("ErrorCalendarEndDateIsEarlierThanStartDate", "End is before start.")
    found = series(item)
    if found is not None and start is not None:
        try:
            next(found.occurrences(*_master_args(item), None), None)
        except (RecurrenceError, ValueError) as e:
            raise EwsError("ErrorInvalidRecurrence", str(e)) from e


def _times(item: Item) -> tuple[datetime | None, datetime | None]:
    start, end = text_value(item, "Start"), text_value(item, "End")
    return (
        parse_datetime(start) if start else None,
        parse_datetime(end) if end else None,
    )


def _instances(master: Item, found: Series, until: datetime | None) -> list[Occurrence]:
    return list(found.occurrences(*_master_args(master), until))


def instance(master: Item, index: int) -> Occurrence:
    found = series(master)
    if found is None:
        raise EwsError("ErrorItemNotFound", "The item is not a recurring master.")
    for occ in found.occurrences(*_master_args(master), None):
        if occ.index == index:
            return occ
        if occ.index > index:
            break
    raise EwsError(
        "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
        "The occurrence index is out of the recurrence range.",
    )


def _master_args(master: Item) -> tuple[datetime, timedelta, tzinfo]:
    start, end = _times(master)
    if start is None:
        raise EwsError("ErrorInvalidRecurrence", "A recurring item needs a start.")
    return start, (end - start) if end else timedelta(0), zone(time_zone_id(master.fields))


def occurrence_item(master: Item, index: int) -> Item:
    """The item for one instance: its exception if it has one, else a rendered occurrence."""
    if index in master.deleted_occurrences:
        raise EwsError("ErrorCalendarOccurrenceIsDeletedFromRecurrence", "Occurrence deleted.")
    if index in master.exceptions:
        return master.exceptions[index]
    occ = instance(master, index)
    fields = {k: v for k, v in master.fields.items() if k != "Recurrence"}
    fields["Start"] = t("Start", format_datetime(occ.start))
    fields["End"] = t("End", format_datetime(occ.end))
    fields["OriginalStart"] = t("OriginalStart", format_datetime(occ.start))
    return Item(
        id=occurrence_id(master.id, index),
        kind="CalendarItem",
        folder_id=master.folder_id,
        change_key=master.change_key,
        created=master.created,
        last_modified=master.last_modified,
        fields=fields,
        extended=master.extended,
        attachments=master.attachments,
        master_id=master.id,
        instance_index=index,
    )


def make_exception(master: Item, index: int) -> Item:
    """Turn an instance into an exception the caller may then modify."""
    if index in master.exceptions:
        return master.exceptions[index]
    virtual = occurrence_item(master, index)
    exception = Item(
        id=virtual.id,
        kind="CalendarItem",
        folder_id=master.folder_id,
        fields={k: copy.deepcopy(v) for k, v in virtual.fields.items()},
        extended={k: copy.deepcopy(v) for k, v in master.extended.items()},
        master_id=master.id,
        instance_index=index,
    )
    master.exceptions[index] = exception
    return exception


def resolve(mailbox: Mailbox, item_id: str) -> Item:
    check_id(item_id)
    occurrence = split_occurrence_id(item_id)
    if occurrence is not None:
        master = mailbox.find_item(occurrence[0])
        if master is None:
            raise EwsError("ErrorItemNotFound", "The specified object was not found in the store.")
        return occurrence_item(master, occurrence[1])
    item = mailbox.find_item(item_id)
    if item is None:
        raise EwsError("ErrorItemNotFound", "The specified object was not found in the store.")
    return item


def master_of(mailbox: Mailbox, item: Item) -> Item:
    if item.master_id is None:
        return item
    master = mailbox.find_item(item.master_id)
    if master is None:
        raise EwsError("ErrorItemNotFound", "The recurring master no longer exists.")
    return master


def view(mailbox: Mailbox, items: list[Item], start: datetime, end: datetime) -> list[Item]:
    """Instances in the view, single items, occurrences and exceptions, by start.

    Exchange draws the boundaries unevenly: an instance starting at the view's end is out, but
    one ending exactly at the view's start is in.
    """
    out: list[tuple[datetime, Item]] = []
    for item in items:
        found = series(item)
        if found is None:
            s, e = _times(item)
            if s is not None and s < end and (e or s) >= start:
                out.append((s, item))
            continue
        for occ in _instances(item, found, end):
            if occ.index in item.deleted_occurrences:
                continue
            if occ.index in item.exceptions:
                continue
            if occ.start < end and occ.end >= start:
                out.append((occ.start, occurrence_item(item, occ.index)))
        for exception in item.exceptions.values():
            s, e = _times(exception)
            if s is not None and s < end and (e or s) >= start:
                out.append((s, exception))
    out.sort(key=lambda pair: pair[0])
    return [item for _, item in out]


def computed(item: Item, mailbox: Mailbox) -> dict[str, Element]:
    out: dict[str, Element] = {}
    if item.master_id is not None:
        master = mailbox.find_item(item.master_id)
        stored = master is not None and master.exceptions.get(item.instance_index or 0) is item
        out["CalendarItemType"] = t("CalendarItemType", "Exception" if stored else "Occurrence")
        out["IsRecurring"] = t("IsRecurring", "true")
        return out
    found = series(item)
    if found is None:
        out["CalendarItemType"] = t("CalendarItemType", "Single")
        out["IsRecurring"] = t("IsRecurring", "false")
        return out
    out["CalendarItemType"] = t("CalendarItemType", RECURRING_MASTER)
    out["IsRecurring"] = t("IsRecurring", "false")
    live = _live_instances(item, found)
    if live:
        out["FirstOccurrence"] = _occurrence_info("FirstOccurrence", item, live[0])
        if found.has_end:
            out["LastOccurrence"] = _occurrence_info("LastOccurrence", item, live[-1])
    if item.exceptions:
        modified = out["ModifiedOccurrences"] = t("ModifiedOccurrences")
        for index in sorted(item.exceptions):
            modified.append(_occurrence_info("Occurrence", item, instance(item, index)))
    if item.deleted_occurrences:
        deleted = out["DeletedOccurrences"] = t("DeletedOccurrences")
        for index in sorted(item.deleted_occurrences):
            entry = t("DeletedOccurrence")
            entry.append(t("Start", format_datetime(instance(item, index).start)))
            deleted.append(entry)
    return out


def _live_instances(item: Item, found: Series) -> list[Occurrence]:
    """All remaining instances of a bounded series; only the first of an open-ended one."""
    live: list[Occurrence] = []
    for occ in found.occurrences(*_master_args(item), None):
        if occ.index not in item.deleted_occurrences:
            live.append(occ)
            if not found.has_end:
                break
    return live


def _occurrence_info(name: str, master: Item, occ: Occurrence) -> Element:
    el = t(name)
    exception = master.exceptions.get(occ.index)
    if exception is not None:
        el.append(item_id_element(exception))
        s, e = _times(exception)
        el.append(t("Start", format_datetime(s or occ.start)))
        el.append(t("End", format_datetime(e or occ.end)))
    else:
        el.append(t("ItemId", Id=occurrence_id(master.id, occ.index), ChangeKey=master.change_key))
        el.append(t("Start", format_datetime(occ.start)))
        el.append(t("End", format_datetime(occ.end)))
    el.append(t("OriginalStart", format_datetime(occ.start)))
    return el
