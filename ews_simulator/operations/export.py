"""ExportItems and UploadItems: an item's full state as an opaque blob, and back.

Exchange's blobs are its own binary format; the simulator's are its persistence JSON, which
carries everything the item has, so an uploaded item is the exported one under a new id.
"""

from __future__ import annotations

import base64
import binascii
import json

from ews_simulator.ids import check_id
from ews_simulator.operations.base import (
    OperationContext,
    each,
    folder_from_id,
    operation,
    required_m,
)
from ews_simulator.operations.items import copy_of, resolve_item_id
from ews_simulator.persistence import item_from_json, item_to_json
from ews_simulator.soap import EwsError
from ews_simulator.xml import Element, find_t, m, text_t


@operation("ExportItems")
def export_items(ctx: OperationContext) -> Element:
    def one(el: Element) -> list[Element]:
        item = resolve_item_id(ctx.mailbox, el)
        data = json.dumps(item_to_json(item)).encode()
        return [
            m("ItemId", Id=item.id, ChangeKey=item.change_key),
            m("Data", base64.b64encode(data).decode()),
        ]

    return each("ExportItems", required_m(ctx.body, "ItemIds"), one)


@operation("UploadItems")
def upload_items(ctx: OperationContext) -> Element:
    def one(el: Element) -> list[Element]:
        parent_el = find_t(el, "ParentFolderId")
        if parent_el is None:
            raise EwsError("ErrorInvalidRequest", "UploadItems needs a ParentFolderId.")
        folder = folder_from_id(ctx.mailbox, parent_el)
        try:
            state = json.loads(base64.b64decode(text_t(el, "Data") or "", validate=True))
            item = item_from_json(state)
        except (binascii.Error, ValueError, KeyError, TypeError) as e:
            raise EwsError("ErrorInvalidRequest", "The upload data is not an export.") from e
        existing_el = find_t(el, "ItemId")
        if el.get("CreateAction") in ("Update", "UpdateOrCreate") and existing_el is not None:
            # The uploaded state replaces the item (it comes back under a new id, which
            # Exchange would spare; clients take the id from the response either way).
            existing = ctx.mailbox.find_item(check_id(existing_el.get("Id") or ""))
            if existing is not None:
                ctx.mailbox.remove_item(existing)
            elif el.get("CreateAction") == "Update":
                raise EwsError("ErrorItemNotFound", "The item to update was not found.")
        item = copy_of(item, folder.id)
        ctx.mailbox.add_item(item)
        return [m("ItemId", Id=item.id, ChangeKey=item.change_key)]

    return each("UploadItems", required_m(ctx.body, "Items"), one)
