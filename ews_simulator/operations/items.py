"""CreateItem, GetItem, UpdateItem, DeleteItem, MoveItem and CopyItem."""

from __future__ import annotations

import copy

from ews_simulator import calendar, kinds
from ews_simulator.ids import check_change_key
from ews_simulator.items import (
    ITEM_CLASSES,
    Shape,
    all_attachments,
    delete_property,
    item_id_element,
    render_item,
    set_property,
)
from ews_simulator.mime import mime_content
from ews_simulator.operations.base import (
    OperationContext,
    each,
    error,
    operation,
    required_m,
    respond,
    single_folder,
)
from ews_simulator.paths import parse_path
from ews_simulator.soap import EwsError
from ews_simulator.store import ANY_PROPERTY, CHANGE_READ_FLAG, Item, Mailbox, new_id
from ews_simulator.xml import Element, find_m, find_t, local, m, t

# Items whose MimeContent Exchange synthesises when the client did not upload one.
MIME_KINDS = frozenset({"Message", "Item"})
DEFAULT_FOLDER = {
    "CalendarItem": "calendar",
    "Contact": "contacts",
    "DistributionList": "contacts",
    "Task": "tasks",
    "Message": "drafts",
}


def render(ctx: OperationContext, item: Item, shape: Shape) -> Element:
    el = render_item(item, shape, ctx.mailbox, kinds.computed(item, ctx.mailbox, shape.wants))
    if item.kind in MIME_KINDS and shape.wants("MimeContent"):
        stored = find_t(el, "MimeContent")
        if stored is not None:
            el.remove(stored)
        el.insert(0, mime_content(item))
    return el


def id_only(item: Item) -> Element:
    el = t(item.kind)
    el.append(item_id_element(item))
    return el


def items_container(*elements: Element) -> Element:
    container = m("Items")
    for el in elements:
        container.append(el)
    return container


def resolve_item_id(mailbox: Mailbox, el: Element) -> Item:
    """Resolve ItemId, OccurrenceItemId or RecurringMasterItemId to an item."""
    kind = local(el)
    check_change_key(el.get("ChangeKey"))
    if kind == "ItemId":
        return calendar.resolve(mailbox, el.get("Id") or "")
    if kind == "OccurrenceItemId":
        master = calendar.resolve(mailbox, el.get("RecurringMasterId") or "")
        return calendar.occurrence_item(master, int(el.get("InstanceIndex") or "0"))
    if kind == "RecurringMasterItemId":
        occurrence = calendar.resolve(mailbox, el.get("OccurrenceId") or "")
        master = calendar.master_of(mailbox, occurrence)
        if calendar.series(master) is None:
            raise EwsError("ErrorItemNotFound", "The item is not part of a series.")
        return master
    raise EwsError("ErrorInvalidIdMalformed", f"Unsupported item id element {kind}.")


def new_item(mailbox: Mailbox, el: Element, folder_id: str) -> Item:
    kind = local(el)
    if kind not in ITEM_CLASSES:
        raise EwsError("ErrorInvalidItemForOperationCreateItem", f"Cannot create a {kind}.")
    item = Item(id=new_id("AAMkI"), kind=kind, folder_id=folder_id)
    for child in el:
        set_property(item, child)
    for att in all_attachments(item):
        att.id = attachment_id(item.id)
    kinds.apply_defaults(item, mailbox)
    return item


def attachment_id(item_id: str) -> str:
    # The owning item is encoded in the attachment id so GetAttachment needs no index.
    return f"{new_id('AAMkA')}_{item_id}"


@operation("CreateItem")
def create_item(ctx: OperationContext) -> Element:
    disposition = ctx.body.get("MessageDisposition") or "SaveOnly"
    target = find_m(ctx.body, "SavedItemFolderId")
    try:
        folder = single_folder(ctx.mailbox, target) if target is not None else None
    except EwsError as e:
        return respond("CreateItem", [error("CreateItem", e)])

    def one(el: Element) -> list[Element]:
        kind = local(el)
        destination = folder
        if destination is None:
            name = DEFAULT_FOLDER.get(kind, "drafts")
            if kind == "Message" and disposition != "SaveOnly":
                name = "sentitems"
            destination = ctx.mailbox.folders[ctx.mailbox.distinguished[name]]
        item = new_item(ctx.mailbox, el, destination.id)
        if kind == "Message" and disposition == "SendOnly":
            # Sent without a saved copy: nothing stays in this mailbox.
            return [items_container()]
        ctx.mailbox.add_item(item)
        created = id_only(item)
        if item.attachments:
            # Exchange names the attachments it created, so a client can address them later.
            listed = t("Attachments")
            for att in item.attachments:
                att_el = t("ItemAttachment" if att.item is not None else "FileAttachment")
                att_el.append(
                    t(
                        "AttachmentId",
                        Id=att.id,
                        RootItemId=item.id,
                        RootItemChangeKey=item.change_key,
                    )
                )
                listed.append(att_el)
            created.append(listed)
        return [items_container(created)]

    return each("CreateItem", required_m(ctx.body, "Items"), one)


@operation("GetItem")
def get_item(ctx: OperationContext) -> Element:
    shape = Shape.parse(required_m(ctx.body, "ItemShape"))

    def one(el: Element) -> list[Element]:
        return [items_container(render(ctx, resolve_item_id(ctx.mailbox, el), shape))]

    return each("GetItem", required_m(ctx.body, "ItemIds"), one)


def _check_change_key(
    item: Item, id_el: Element, resolution: str, properties: frozenset[str]
) -> None:
    """Exchange's rules for a change key older than the item's.

    NeverOverwrite refuses any stale key; AutoResolve refuses one only when the update sets a
    property changed since that version; AlwaysOverwrite applies the update regardless.
    """
    sent = id_el.get("ChangeKey")
    if not sent or sent == item.change_key or resolution == "AlwaysOverwrite":
        return
    changed = item.changed_since(sent)
    if resolution == "NeverOverwrite" or "*" in changed or changed & properties:
        raise EwsError(
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed "
            "in the request does not match the current change key for the item.",
        )


@operation("UpdateItem")
def update_item(ctx: OperationContext) -> Element:
    resolution = ctx.body.get("ConflictResolution") or "AutoResolve"
    injected = ctx.injected_error

    def one(change: Element) -> list[Element]:
        if injected:
            raise EwsError(injected, "Injected fault.")
        id_el = change[0]
        item = resolve_item_id(ctx.mailbox, id_el)
        updates = find_t(change, "Updates")
        touched = frozenset(
            parse_path(update[0]).name for update in (updates if updates is not None else ())
        )
        _check_change_key(item, id_el, resolution, touched)
        master = calendar.master_of(ctx.mailbox, item)
        if item.master_id is not None and item.instance_index is not None:
            # Changing an occurrence turns it into an exception of its series.
            item = calendar.make_exception(master, item.instance_index)
        changed: set[str] = set()
        for update in updates if updates is not None else ():
            changed |= _apply_update(item, update)
        if "Recurrence" in changed:
            item.exceptions.clear()
            item.deleted_occurrences.clear()
        kinds.apply_defaults(item, ctx.mailbox)
        if item is not master:
            item.touch()
            calendar.validate(item)
        kind = CHANGE_READ_FLAG if changed == {"IsRead"} else "Update"
        ctx.mailbox.updated(master, kind, touched if item is master else ANY_PROPERTY)
        conflicts = m("ConflictResults")
        conflicts.append(t("Count", "0"))
        return [items_container(id_only(item)), conflicts]

    return each("UpdateItem", required_m(ctx.body, "ItemChanges"), one)


def _apply_update(item: Item, update: Element) -> set[str]:
    kind = local(update)
    path = parse_path(update[0])
    if kind == "DeleteItemField":
        delete_property(item, path)
        return {path.name}
    if len(update) < 2 or len(update[1]) != 1:
        raise EwsError("ErrorInvalidPropertySet", f"{kind} needs exactly one property value.")
    value = update[1][0]
    if kind == "AppendToItemField":
        current = item.fields.get(local(value))
        if current is not None and len(value) == 0:
            merged = copy.deepcopy(current)
            merged.text = (merged.text or "") + (value.text or "")
            value = merged
        elif current is not None:
            merged = copy.deepcopy(current)
            merged.extend(copy.deepcopy(child) for child in value)
            value = merged
    set_property(item, value)
    return {local(value)}


@operation("DeleteItem")
def delete_item(ctx: OperationContext) -> Element:
    delete_type = ctx.body.get("DeleteType") or "HardDelete"

    def one(el: Element) -> list[Element]:
        item = resolve_item_id(ctx.mailbox, el)
        if item.master_id is not None and item.instance_index is not None:
            master = calendar.master_of(ctx.mailbox, item)
            master.exceptions.pop(item.instance_index, None)
            master.deleted_occurrences.add(item.instance_index)
            ctx.mailbox.updated(master)
            return []
        # A soft-deleted item waits in the dumpster (Recoverable Items\Deletions).
        bin_name = {"MoveToDeletedItems": "deleteditems", "SoftDelete": "recoverableitemsdeletions"}
        target = ctx.mailbox.distinguished.get(bin_name.get(delete_type, ""))
        if target is not None and item.folder_id != target:
            move(ctx.mailbox, item, target)
        else:
            ctx.mailbox.remove_item(item)
        return []

    return each("DeleteItem", required_m(ctx.body, "ItemIds"), one)


def move(mailbox: Mailbox, item: Item, folder_id: str) -> Item:
    """Move an item; like Exchange, the moved item gets a new id."""
    mailbox.remove_item(item)
    moved = copy_of(item, folder_id)
    mailbox.add_item(moved)
    return moved


def copy_of(item: Item, folder_id: str) -> Item:
    new = copy.deepcopy(item)
    new.id = new_id("AAMkI")
    new.folder_id = folder_id
    new.touch()
    for exception in new.exceptions.values():
        exception.master_id = new.id
        exception.id = calendar.occurrence_id(new.id, exception.instance_index or 0)
    for att in all_attachments(new):
        att.id = attachment_id(new.id)
    return new


def _move_or_copy(ctx: OperationContext, op: str) -> Element:
    try:
        target = single_folder(ctx.mailbox, find_m(ctx.body, "ToFolderId"))
    except EwsError as e:
        return respond(op, [error(op, e)])
    return_ids = ctx.body.get("ReturnNewItemIds", "true").lower() != "false"

    def one(el: Element) -> list[Element]:
        item = resolve_item_id(ctx.mailbox, el)
        if item.master_id is not None:
            raise EwsError("ErrorCalendarCannotMoveOrCopyOccurrence", "Occurrences stay put.")
        if op == "MoveItem":
            result = move(ctx.mailbox, item, target.id)
        else:
            result = copy_of(item, target.id)
            ctx.mailbox.add_item(result)
        return [items_container(id_only(result)) if return_ids else items_container()]

    return each(op, required_m(ctx.body, "ItemIds"), one)


@operation("MoveItem")
def move_item(ctx: OperationContext) -> Element:
    return _move_or_copy(ctx, "MoveItem")


@operation("CopyItem")
def copy_item(ctx: OperationContext) -> Element:
    return _move_or_copy(ctx, "CopyItem")
