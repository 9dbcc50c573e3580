"""FindItem: paged item views and calendar views, with restrictions and sort orders."""

from __future__ import annotations

from ews_simulator import calendar
from ews_simulator.items import Shape
from ews_simulator.operations.base import (
    OperationContext,
    error,
    folder_from_id,
    operation,
    required_m,
    respond,
    success,
)
from ews_simulator.operations.items import render
from ews_simulator.restrictions import compile_restriction, sort_items, window
from ews_simulator.soap import EwsError
from ews_simulator.store import Item
from ews_simulator.xml import Element, find_m, m, t


@operation("FindItem")
def find_item(ctx: OperationContext) -> Element:
    try:
        return respond("FindItem", [success("FindItem", _root_folder(ctx))])
    except EwsError as e:
        return respond("FindItem", [error("FindItem", e)])


def _root_folder(ctx: OperationContext) -> Element:
    shape = Shape.parse(required_m(ctx.body, "ItemShape"))
    parents = required_m(ctx.body, "ParentFolderIds")
    items: list[Item] = []
    for el in parents:
        folder = folder_from_id(ctx.mailbox, el)
        if ctx.body.get("Traversal") != "Associated":
            items.extend(folder.items.values())
    restriction = find_m(ctx.body, "Restriction")
    calendar_view = find_m(ctx.body, "CalendarView")
    if calendar_view is not None:
        start, end = window(calendar_view.get("StartDate"), calendar_view.get("EndDate"))
        if end < start:
            raise EwsError("ErrorCalendarEndDateIsEarlierThanStartDate", "End before start.")
        items = calendar.view(ctx.mailbox, items, start, end)
    if restriction is not None:
        predicate = compile_restriction(restriction)
        items = [item for item in items if predicate(item)]
    if calendar_view is None:
        items = sort_items(items, find_m(ctx.body, "SortOrder"))
    total = len(items)
    if calendar_view is not None:
        limit = int(calendar_view.get("MaxEntriesReturned") or total)
        page = items[:limit]
        root = m(
            "RootFolder",
            TotalItemsInView=str(total),
            IncludesLastItemInRange="true" if len(page) == total else "false",
        )
    else:
        offset, page = _page(ctx.body, items)
        next_offset = offset + len(page)
        root = m(
            "RootFolder",
            IndexedPagingOffset=str(next_offset),
            TotalItemsInView=str(total),
            IncludesLastItemInRange="true" if next_offset >= total else "false",
        )
    container = t("Items")
    for item in page:
        container.append(render(ctx, item, shape))
    root.append(container)
    return root


def _page(body: Element, items: list[Item]) -> tuple[int, list[Item]]:
    view = find_m(body, "IndexedPageItemView")
    if view is None:
        fractional = find_m(body, "FractionalPageItemView")
        if fractional is None:
            return 0, items
        numerator = int(fractional.get("Numerator") or 0)
        denominator = max(1, int(fractional.get("Denominator") or 1))
        offset = len(items) * numerator // denominator
        limit = int(fractional.get("MaxEntriesReturned") or len(items))
        return offset, items[offset : offset + limit]
    try:
        limit = int(view.get("MaxEntriesReturned") or len(items))
        offset = int(view.get("Offset") or 0)
    except ValueError as e:
        raise EwsError("ErrorInvalidIndexedPagingParameters", "Bad paging values.") from e
    if limit < 1 or offset < 0:
        raise EwsError("ErrorInvalidIndexedPagingParameters", "Bad paging values.")
    if view.get("BasePoint") == "End":
        stop = max(0, len(items) - offset)
        start = max(0, stop - limit)
        return start, items[start:stop]
    return offset, items[offset : offset + limit]
