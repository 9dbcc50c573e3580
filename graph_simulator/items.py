"""What contacts, events, tasks and messages share: JSON rendering, writes, list pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from graph_simulator.odata import (
    EXTENDED_PROPERTIES,
    Request,
    Response,
    Shape,
    bad_request,
    item_filter,
    merge_extended_properties,
    not_found,
)
from graph_simulator.store import Folder, Item, Mailbox

READ_ONLY = frozenset(
    {"id", "changeKey", "createdDateTime", "lastModifiedDateTime", "parentFolderId", "@odata.etag"}
)
DEFAULT_PAGE = 10


def outlook_item(item: Item, folder: Folder | None, odata_type: str) -> dict[str, Any]:
    """An outlookItem (contact, event, message) as Graph renders it; events name no folder."""
    return {
        "@odata.type": f"#microsoft.graph.{odata_type}",
        "@odata.etag": f'W/"{item.change_key}"',
        "id": item.id,
        "createdDateTime": item.created,
        "lastModifiedDateTime": item.modified,
        "changeKey": item.change_key,
        "categories": [],
        **({} if folder is None else {"parentFolderId": folder.id}),
        **item.data,
    }


def writable(body: dict[str, Any]) -> dict[str, Any]:
    """The body's properties a client may set; extended properties are merged separately."""
    for key in body:
        if key in READ_ONLY:
            raise bad_request(f"The property '{key}' is read-only.")
    return {k: v for k, v in body.items() if k != EXTENDED_PROPERTIES and not k.startswith("@")}


def apply(mailbox: Mailbox, item: Item, body: dict[str, Any]) -> None:
    """A PATCH: set the given properties, upsert the extended properties, take a change."""
    changes = writable(body)
    item.data.update(changes)
    if EXTENDED_PROPERTIES in body:
        merge_extended_properties(item.data, body[EXTENDED_PROPERTIES])
    mailbox.touch(item)


def create(mailbox: Mailbox, folder: Folder, body: dict[str, Any], prefix: str) -> Item:
    data = writable(body)
    if EXTENDED_PROPERTIES in body:
        merge_extended_properties(data, body[EXTENDED_PROPERTIES])
    return mailbox.add(folder, data, prefix)


def get(folder: Folder, item_id: str) -> Item:
    item = folder.items.get(item_id)
    if item is None:
        raise not_found(item_id)
    return item


def list_page(request: Request, values: list[dict[str, Any]]) -> Response:
    """A page of a plain listing: `$filter`, `$top`/odata.maxpagesize, `$skip` in nextLink."""
    keep = item_filter(request.query.get("$filter"))
    matching = [v for v in values if keep(v)]
    size = request.page_size(DEFAULT_PAGE)
    skip_raw = request.query.get("$skip", "0")
    if not skip_raw.isdigit():
        raise bad_request(f"Invalid $skip {skip_raw!r}.")
    skip = int(skip_raw)
    shape = Shape.of(request.query)
    body: dict[str, Any] = {"value": [shape.present(v) for v in matching[skip : skip + size]]}
    if skip + size < len(matching):
        kept = {k: v for k, v in request.query.items() if k not in ("$skip", "$top")}
        kept.update({"$top": str(size), "$skip": str(skip + size)})
        query = urlencode(kept, safe="$'(),:/", quote_via=quote)
        body["@odata.nextLink"] = f"{request.base_url}/v1.0{request.path}?{query}"
    return Response(200, body)
