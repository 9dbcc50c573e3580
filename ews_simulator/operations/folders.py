"""GetFolder, FindFolder and CreateFolder."""

from __future__ import annotations

import copy

from ews_simulator.items import item_size
from ews_simulator.operations.base import (
    OperationContext,
    each,
    error,
    folder_from_id,
    operation,
    required_m,
    respond,
    single_folder,
)
from ews_simulator.soap import EwsError
from ews_simulator.store import Folder, Mailbox
from ews_simulator.xml import Element, find_m, find_t, local, m, t, text_t

FOLDER_KINDS = {
    "Folder": None,
    "CalendarFolder": "IPF.Appointment",
    "ContactsFolder": "IPF.Contact",
    "TasksFolder": "IPF.Task",
    "SearchFolder": None,
}
# Only these folder types carry UnreadCount in the schema.
WITH_UNREAD = frozenset({"Folder", "TasksFolder", "SearchFolder"})


# PR_MESSAGE_SIZE (0x0E08): the one extended folder property clients commonly read.
MESSAGE_SIZE_TAG = 0x0E08


def render_folder(mailbox: Mailbox, folder: Folder, extended: tuple[Element, ...] = ()) -> Element:
    """A folder with its standard properties and the extended ones asked for (`extended`, the
    ExtendedFieldURIs of the request's FolderShape) that the simulator knows."""
    el = t(folder.kind)
    el.append(t("FolderId", Id=folder.id, ChangeKey=folder.change_key))
    if folder.parent_id is not None:
        parent = mailbox.folders[folder.parent_id]
        el.append(t("ParentFolderId", Id=parent.id, ChangeKey=parent.change_key))
    if folder.folder_class:
        el.append(t("FolderClass", folder.folder_class))
    el.append(t("DisplayName", folder.display_name))
    el.append(t("TotalCount", str(len(folder.items))))
    el.append(t("ChildFolderCount", str(len(mailbox.children(folder.id)))))
    for uri in extended:
        if _tag(uri) == MESSAGE_SIZE_TAG:
            within = [folder, *mailbox.descendants(folder.id)]
            size = sum(item_size(i) for f in within for i in f.items.values())
            prop = t("ExtendedProperty")
            prop.append(copy.deepcopy(uri))
            prop.append(t("Value", str(size)))
            el.append(prop)
    if folder.permission_set is not None and folder.kind == "Folder":
        el.append(copy.deepcopy(folder.permission_set))
    if folder.kind in WITH_UNREAD:
        unread = sum(1 for item in folder.items.values() if _unread(item.fields.get("IsRead")))
        el.append(t("UnreadCount", str(unread)))
    return el


def _tag(uri: Element) -> int | None:
    try:
        return int(uri.get("PropertyTag") or "", 0)
    except ValueError:
        return None


def requested_extended(body: Element) -> tuple[Element, ...]:
    shape = find_m(body, "FolderShape")
    extra = find_t(shape, "AdditionalProperties") if shape is not None else None
    return tuple(
        el for el in (extra if extra is not None else ()) if local(el) == "ExtendedFieldURI"
    )


def _unread(flag: Element | None) -> bool:
    return flag is not None and flag.text == "false"


@operation("GetFolder")
def get_folder(ctx: OperationContext) -> Element:
    ids = required_m(ctx.body, "FolderIds")
    extended = requested_extended(ctx.body)

    def one(el: Element) -> list[Element]:
        folders = m("Folders")
        folders.append(render_folder(ctx.mailbox, folder_from_id(ctx.mailbox, el), extended))
        return [folders]

    return each("GetFolder", ids, one)


@operation("FindFolder")
def find_folder(ctx: OperationContext) -> Element:
    deep = ctx.body.get("Traversal") == "Deep"
    restriction = find_m(ctx.body, "Restriction")
    view = find_m(ctx.body, "IndexedPageFolderView")
    parents = required_m(ctx.body, "ParentFolderIds")

    def one(el: Element) -> list[Element]:
        parent = folder_from_id(ctx.mailbox, el)
        found = ctx.mailbox.descendants(parent.id) if deep else ctx.mailbox.children(parent.id)
        if restriction is not None:
            found = [f for f in found if _folder_matches(f, restriction)]
        offset, limit = 0, len(found)
        if view is not None:
            offset = int(view.get("Offset") or 0)
            limit = int(view.get("MaxEntriesReturned") or len(found))
        page = found[offset : offset + limit]
        root = m(
            "RootFolder",
            IndexedPagingOffset=str(offset + len(page)),
            TotalItemsInView=str(len(found)),
            IncludesLastItemInRange="true" if offset + len(page) >= len(found) else "false",
        )
        folders = t("Folders")
        for folder in page:
            folders.append(render_folder(ctx.mailbox, folder))
        root.append(folders)
        return [root]

    return each("FindFolder", parents, one)


def _folder_matches(folder: Folder, restriction: Element) -> bool:
    """Folder restrictions in practice compare DisplayName or FolderClass with a constant."""
    for comparison in restriction.iter():
        if local(comparison) not in ("IsEqualTo", "Contains") or len(comparison) == 0:
            continue
        uri = comparison[0].get("FieldURI") or ""
        constant = comparison.find(".//{*}Constant")
        wanted = (constant.get("Value") if constant is not None else "") or ""
        actual = {
            "folder:DisplayName": folder.display_name,
            "folder:FolderClass": folder.folder_class or "",
        }.get(uri)
        if actual is None:
            raise EwsError("ErrorUnsupportedPathForQuery", f"Cannot restrict folders on {uri}.")
        if local(comparison) == "IsEqualTo":
            if wanted.lower() != actual.lower():
                return False
            continue
        # Contains honours its mode and case rule, as on items.
        if "Ignore" in (comparison.get("ContainmentComparison") or "Exact"):
            wanted, actual = wanted.lower(), actual.lower()
        mode = comparison.get("ContainmentMode") or "Substring"
        found = {
            "FullString": actual == wanted,
            "Prefixed": actual.startswith(wanted),
            "PrefixOnWords": any(w.startswith(wanted) for w in actual.split()),
        }.get(mode, wanted in actual)
        if not found:
            return False
    return True


@operation("CreateFolder")
def create_folder(ctx: OperationContext) -> Element:
    try:
        parent = single_folder(ctx.mailbox, find_m(ctx.body, "ParentFolderId"))
    except EwsError as e:
        return respond("CreateFolder", [error("CreateFolder", e)])
    new = required_m(ctx.body, "Folders")

    def one(el: Element) -> list[Element]:
        kind = local(el)
        if kind not in FOLDER_KINDS:
            raise EwsError("ErrorInvalidRequest", f"Cannot create a {kind}.")
        name = (text_t(el, "DisplayName") or "").strip()
        if not name:
            raise EwsError("ErrorInvalidRequest", "A folder needs a display name.")
        if any(f.display_name.lower() == name.lower() for f in ctx.mailbox.children(parent.id)):
            raise EwsError("ErrorFolderExists", f"Could not create folder '{name}'.")
        # A plain t:Folder gets no class of its own: Exchange does not inherit the parent's.
        folder_class = text_t(el, "FolderClass") or FOLDER_KINDS[kind]
        folder = ctx.mailbox.add_folder(kind, name, folder_class, parent.id)
        out = m("Folders")
        created = t(kind)
        created.append(t("FolderId", Id=folder.id, ChangeKey=folder.change_key))
        out.append(created)
        return [out]

    return each("CreateFolder", new, one)
