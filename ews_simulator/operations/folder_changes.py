"""UpdateFolder, MoveFolder, DeleteFolder, EmptyFolder and SyncFolderHierarchy."""

from __future__ import annotations

import copy

from ews_simulator.operations.base import (
    OperationContext,
    each,
    error,
    folder_from_id,
    operation,
    required_m,
    respond,
    single_folder,
    success,
)
from ews_simulator.operations.folders import render_folder
from ews_simulator.operations.sync import decode_state, encode_state
from ews_simulator.soap import EwsError
from ews_simulator.store import CHANGE_DELETE, Folder, Mailbox
from ews_simulator.xml import Element, find_m, find_t, format_bool, local, m, parse_bool, t

# Folder properties a client may change; the rest Exchange maintains itself.
WRITABLE = {
    "folder:DisplayName": "DisplayName",
    "folder:FolderClass": "FolderClass",
    "folder:PermissionSet": "PermissionSet",
}


def _folder_id_only(folder: Folder) -> Element:
    el = t(folder.kind)
    el.append(t("FolderId", Id=folder.id, ChangeKey=folder.change_key))
    return el


def _folders(*elements: Element) -> Element:
    out = m("Folders")
    for el in elements:
        out.append(el)
    return out


def _not_distinguished(folder: Folder, code: str, what: str) -> None:
    if folder.distinguished is not None:
        raise EwsError(code, f"Distinguished folders cannot be {what}.")
    if folder.system:
        raise EwsError("ErrorCannotDeleteObject", f"System folders cannot be {what}.")


def _check_name_free(mailbox: Mailbox, parent_id: str, name: str, moving: Folder) -> None:
    for sibling in mailbox.children(parent_id):
        if sibling is not moving and sibling.display_name.lower() == name.lower():
            raise EwsError("ErrorFolderExists", "A folder with that name already exists.")


@operation("UpdateFolder")
def update_folder(ctx: OperationContext) -> Element:
    def one(change: Element) -> list[Element]:
        try:
            folder = folder_from_id(ctx.mailbox, change[0])
        except EwsError as e:
            if e.code != "ErrorFolderNotFound":
                raise
            # Exchange reports an update of a deleted folder as a missing object.
            raise EwsError("ErrorItemNotFound", e.text) from e
        updates = find_t(change, "Updates")
        for update in updates if updates is not None else ():
            _apply(ctx.mailbox, folder, update)
        ctx.mailbox.folder_changed(folder)
        return [_folders(_folder_id_only(folder))]

    return each("UpdateFolder", required_m(ctx.body, "FolderChanges"), one)


def _apply(mailbox: Mailbox, folder: Folder, update: Element) -> None:
    uri = update[0].get("FieldURI") or ""
    name = WRITABLE.get(uri)
    if name is None:
        raise EwsError("ErrorInvalidPropertySet", f"{uri or local(update[0])} cannot be changed.")
    if local(update) == "DeleteFolderField" and name == "PermissionSet":
        folder.permission_set = None
        return
    if local(update) == "DeleteFolderField":
        raise EwsError("ErrorInvalidPropertyDelete", f"A folder's {name} cannot be deleted.")
    value = find_t(update[1], name) if len(update) > 1 and len(update[1]) else None
    if value is None:
        raise EwsError("ErrorInvalidPropertySet", f"{local(update)} lacks the new {name}.")
    text = (value.text or "").strip()
    if name == "PermissionSet":
        folder.permission_set = copy.deepcopy(value)
    elif name == "DisplayName":
        if not text:
            raise EwsError("ErrorInvalidPropertySet", "A folder needs a display name.")
        if folder.parent_id is not None:
            _check_name_free(mailbox, folder.parent_id, text, folder)
        folder.display_name = text
    elif text != (folder.folder_class or ""):
        raise EwsError("ErrorObjectTypeChanged", "The folder class of a folder cannot change.")


@operation("MoveFolder")
def move_folder(ctx: OperationContext) -> Element:
    try:
        target = single_folder(ctx.mailbox, find_m(ctx.body, "ToFolderId"))
    except EwsError as e:
        return respond("MoveFolder", [error("MoveFolder", e)])

    def one(el: Element) -> list[Element]:
        folder = folder_from_id(ctx.mailbox, el)
        _not_distinguished(folder, "ErrorMoveDistinguishedFolder", "moved")
        if target is folder or target in ctx.mailbox.descendants(folder.id):
            raise EwsError("ErrorMoveCopyFailed", "A folder cannot move into itself.")
        _check_name_free(ctx.mailbox, target.id, folder.display_name, folder)
        folder.parent_id = target.id
        ctx.mailbox.folder_changed(folder)
        return [_folders(_folder_id_only(folder))]

    return each("MoveFolder", required_m(ctx.body, "FolderIds"), one)


@operation("DeleteFolder")
def delete_folder(ctx: OperationContext) -> Element:
    to_deleted_items = ctx.body.get("DeleteType") == "MoveToDeletedItems"

    def one(el: Element) -> list[Element]:
        folder = folder_from_id(ctx.mailbox, el)
        _not_distinguished(folder, "ErrorDeleteDistinguishedFolder", "deleted")
        trash = ctx.mailbox.folders[ctx.mailbox.distinguished["deleteditems"]]
        if to_deleted_items and folder.parent_id != trash.id:
            folder.parent_id = trash.id
            ctx.mailbox.folder_changed(folder)
        else:
            ctx.mailbox.remove_folder(folder)
        return []

    return each("DeleteFolder", required_m(ctx.body, "FolderIds"), one)


@operation("EmptyFolder")
def empty_folder(ctx: OperationContext) -> Element:
    subfolders_too = parse_bool(ctx.body.get("DeleteSubFolders"))

    def one(el: Element) -> list[Element]:
        folder = folder_from_id(ctx.mailbox, el)
        if folder.kind == "SearchFolder":
            raise EwsError("ErrorCannotEmptyFolder", "Search folders cannot be emptied.")
        for item in list(folder.items.values()):
            ctx.mailbox.remove_item(item)
        if subfolders_too:
            for child in ctx.mailbox.children(folder.id):
                if child.distinguished is None and not child.system:
                    ctx.mailbox.remove_folder(child)
        return []

    return each("EmptyFolder", required_m(ctx.body, "FolderIds"), one)


@operation("SyncFolderHierarchy")
def sync_folder_hierarchy(ctx: OperationContext) -> Element:
    op = "SyncFolderHierarchy"
    box = ctx.mailbox
    try:
        scope_el = find_m(ctx.body, "SyncFolderId")
        scope = (
            single_folder(box, scope_el)
            if scope_el is not None
            else box.folders[box.distinguished["root"]]
        )
        state = find_m(ctx.body, "SyncState")
        token = state.text if state is not None else None
        position = decode_state(scope.id, token, box.hierarchy_seq) if token else None
    except EwsError as e:
        return respond(op, [error(op, e)])
    changes = m("Changes")
    if position is None:
        # The first sync reports every folder below the scope as created.
        for folder in box.descendants(scope.id):
            changes.append(_change("Create", box, folder))
    else:
        within = {f.id for f in box.descendants(scope.id)}
        latest: dict[str, str] = {}
        for _, folder_id, kind in box.hierarchy_changes_since(position):
            latest[folder_id] = kind if latest.get(folder_id) != "Create" else "Create"
            if kind == CHANGE_DELETE:
                latest[folder_id] = CHANGE_DELETE
        for folder_id, kind in latest.items():
            if kind == CHANGE_DELETE:
                gone = t("Delete")
                gone.append(t("FolderId", Id=folder_id))
                changes.append(gone)
            elif folder_id in within:
                changes.append(_change(kind, box, box.folders[folder_id]))
    return respond(
        op,
        [
            success(
                op,
                m("SyncState", encode_state(scope.id, box.hierarchy_seq)),
                m("IncludesLastFolderInRange", format_bool(True)),
                changes,
            )
        ],
    )


def _change(kind: str, mailbox: Mailbox, folder: Folder) -> Element:
    el = t(kind)
    el.append(render_folder(mailbox, folder))
    return el
