"""Item properties: building items from request XML, applying updates, and rendering responses.

Properties are stored as the (normalised) elements the client sent. Rendering orders them by the
schema's sequence for the item type and adds the properties Exchange computes itself.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import lxml.html

from ews_simulator.paths import EXTENDED, INDEXED, Path, extended_key, parse_path
from ews_simulator.soap import EwsError
from ews_simulator.store import Attachment, Item, Mailbox, new_id
from ews_simulator.xml import (
    Element,
    find_t,
    format_bool,
    format_datetime,
    local,
    parse_bool,
    parse_datetime,
    t,
    text_t,
)
from ews_simulator.xsd_tables import (
    BOOLEAN_ELEMENTS,
    DATETIME_ELEMENTS,
    ITEM_ELEMENT_ORDER,
    PHYSICAL_ADDRESS_PARTS,
)

ITEM_CLASSES = {
    "Item": "IPM.Note",
    "DistributionList": "IPM.DistList",
    "Message": "IPM.Note",
    "CalendarItem": "IPM.Appointment",
    "Contact": "IPM.Contact",
    "Task": "IPM.Task",
}
DICTIONARY_ELEMENTS = frozenset(
    {"EmailAddresses", "PhoneNumbers", "ImAddresses", "PhysicalAddresses"}
)
# Properties Exchange maintains itself; values clients send for them are ignored.
COMPUTED = frozenset(
    {
        "ItemId",
        "ParentFolderId",
        "DateTimeCreated",
        "LastModifiedTime",
        "HasAttachments",
        "Attachments",
        "Size",
        "CalendarItemType",
        "IsRecurring",
        "FirstOccurrence",
        "LastOccurrence",
        "ModifiedOccurrences",
        "DeletedOccurrences",
        "IsComplete",
        "ExtendedProperty",
        "CompleteName",
    }
)


# Text properties Exchange cuts to a length rather than refuse (it stores them as short strings).
TRUNCATED = {"Subject": 255, "GivenName": 255, "MiddleName": 255, "Surname": 255}


def normalise(el: Element) -> Element:
    """A detached copy whose scalar values are written the way Exchange writes them."""
    out = copy.deepcopy(el)
    name = local(out)
    if out.text is not None and len(out) == 0:
        if name in DATETIME_ELEMENTS:
            try:
                out.text = format_datetime(parse_datetime(out.text))
            except ValueError as e:
                raise EwsError("ErrorInvalidValueForProperty", f"Bad {name}: {out.text}") from e
        elif name in BOOLEAN_ELEMENTS:
            out.text = format_bool(parse_bool(out.text))
        elif name in TRUNCATED:
            out.text = out.text[: TRUNCATED[name]]
    return out


@dataclass
class Shape:
    """What a response should carry for each item (BaseShape plus AdditionalProperties)."""

    all_properties: bool = False
    names: set[str] = field(default_factory=set)
    indexed: dict[str, set[str]] = field(default_factory=dict)
    extended: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, el: Element | None) -> Shape:
        if el is None:
            return cls()
        base = text_t(el, "BaseShape") or "IdOnly"
        shape = cls(all_properties=base in ("AllProperties", "Default"))
        extra = find_t(el, "AdditionalProperties")
        for path_el in extra if extra is not None else ():
            path = parse_path(path_el)
            if path.kind == EXTENDED:
                shape.extended.add(path.name)
            elif path.kind == INDEXED:
                shape.indexed.setdefault(path.name, set()).add(path.index or "")
            else:
                shape.names.add(path.name)
        return shape

    def wants(self, name: str) -> bool:
        if name == "MimeContent":
            # Even AllProperties leaves MIME out; clients must ask for it by name.
            return name in self.names
        return self.all_properties or name in self.names or name in self.indexed


ID_ONLY = Shape()
ALL = Shape(all_properties=True)


def set_property(item: Item, el: Element) -> None:
    """Store one property element sent for an item (create or SetItemField)."""
    name = local(el)
    if name == "ExtendedProperty":
        uri = find_t(el, "ExtendedFieldURI")
        if uri is None:
            raise EwsError("ErrorInvalidExtendedProperty", "ExtendedProperty lacks its URI.")
        item.extended[extended_key(uri)] = copy.deepcopy(el)
    elif name in DICTIONARY_ELEMENTS:
        _merge_dictionary(item, el)
    elif name == "Attachments":
        for att_el in el:
            item.attachments.append(attachment_from_xml(att_el))
    elif name not in COMPUTED:
        if name not in ITEM_ELEMENT_ORDER[item.kind]:
            raise EwsError("ErrorInvalidPropertySet", f"{name} is not a property of {item.kind}.")
        item.fields[name] = normalise(el)


def _merge_dictionary(item: Item, el: Element) -> None:
    name = local(el)
    current = item.fields.get(name)
    if current is None:
        current = item.fields[name] = t(name)
    entries = {entry.get("Key"): entry for entry in current}
    for new in el:
        key = new.get("Key")
        old = entries.get(key)
        if name == "PhysicalAddresses" and old is not None:
            parts = {local(p): p for p in old}
            parts.update({local(p): copy.deepcopy(p) for p in new})
            for p in list(old):
                old.remove(p)
            for part in PHYSICAL_ADDRESS_PARTS:
                if part in parts:
                    old.append(parts[part])
        else:
            if old is not None:
                current.remove(old)
            entries[key] = copy.deepcopy(new)
            current.append(entries[key])


def delete_property(item: Item, path: Path) -> None:
    if path.kind == EXTENDED:
        item.extended.pop(path.name, None)
    elif path.kind == INDEXED:
        current = item.fields.get(path.name)
        if current is None:
            return
        for entry in list(current):
            if entry.get("Key") != path.index:
                continue
            if path.part:
                for part in list(entry):
                    if local(part) == path.part:
                        entry.remove(part)
            if not path.part or len(entry) == 0:
                current.remove(entry)
        if len(current) == 0:
            del item.fields[path.name]
    elif path.name == "Attachments":
        item.attachments.clear()
    else:
        item.fields.pop(path.name, None)


def attachment_from_xml(el: Element) -> Attachment:
    kind = local(el)
    if kind == "ItemAttachment":
        return _item_attachment(el)
    if kind != "FileAttachment":
        raise EwsError("ErrorInvalidAttachmentType", f"{kind} is not an attachment type.")
    content = text_t(el, "Content") or ""
    try:
        data = base64.b64decode(content, validate=True)
    except ValueError as e:
        raise EwsError("ErrorInvalidValueForProperty", "Attachment content is not base64.") from e
    return Attachment(
        id=new_id("AAMkA"),
        name=text_t(el, "Name") or "attachment",
        content_type=text_t(el, "ContentType") or "application/octet-stream",
        content=data,
        is_inline=parse_bool(text_t(el, "IsInline")),
        content_id=text_t(el, "ContentId"),
    )


def _item_attachment(el: Element) -> Attachment:
    """An item attached to an item: stored as an item of its own, outside any folder."""
    inner_el = next((child for child in el if local(child) in ITEM_CLASSES), None)
    if inner_el is None:
        raise EwsError("ErrorInvalidAttachmentType", "The item attachment carries no item.")
    inner = Item(id="", kind=local(inner_el), folder_id="")
    for child in inner_el:
        set_property(inner, child)
    return Attachment(
        id=new_id("AAMkA"),
        name=text_t(el, "Name") or text_value(inner, "Subject") or "item",
        content_type="message/rfc822",
        content=b"",
        is_inline=parse_bool(text_t(el, "IsInline")),
        content_id=text_t(el, "ContentId"),
        item=inner,
    )


def all_attachments(item: Item) -> list[Attachment]:
    """The item's attachments and, depth first, those of the items attached to it."""
    out: list[Attachment] = []
    for att in item.attachments:
        out.append(att)
        if att.item is not None:
            out.extend(all_attachments(att.item))
    return out


def render_attachment(
    root: Item, att: Attachment, with_content: bool, mailbox: Mailbox | None = None
) -> Element:
    """An attachment of `root` (or of an item attached to it); item attachments need `mailbox`
    to render their item."""
    el = t("ItemAttachment" if att.item is not None else "FileAttachment")
    el.append(t("AttachmentId", Id=att.id, RootItemId=root.id, RootItemChangeKey=root.change_key))
    el.append(t("Name", att.name))
    if att.item is None:
        el.append(t("ContentType", att.content_type))
    if att.content_id:
        el.append(t("ContentId", att.content_id))
    el.append(t("Size", str(len(att.content) if att.item is None else item_size(att.item))))
    el.append(t("LastModifiedTime", format_datetime(att.last_modified)))
    el.append(t("IsInline", format_bool(att.is_inline)))
    if with_content and att.item is None:
        el.append(t("Content", base64.b64encode(att.content).decode()))
    elif with_content and att.item is not None and mailbox is not None:
        el.append(render_item(att.item, ALL, mailbox, attached_to=root))
    return el


def text_value(item: Item, name: str) -> str | None:
    el = item.fields.get(name)
    return None if el is None else (el.text or "")


def render_item(
    item: Item,
    shape: Shape,
    mailbox: Mailbox,
    computed: dict[str, Element] | None = None,
    item_id: Element | None = None,
    attached_to: Item | None = None,
) -> Element:
    """Render an item as its type's element, with the properties the shape asks for.

    An item attached to another (`attached_to`, the root item) has neither id nor folder.
    """
    parts: dict[str, Element] = {}
    for name, el in item.fields.items():
        if shape.wants(name):
            parts[name] = _filter_dictionary(el, shape.indexed.get(name), shape.all_properties)
    if shape.wants("ParentFolderId") and attached_to is None:
        folder = mailbox.folders[item.folder_id]
        parts["ParentFolderId"] = t("ParentFolderId", Id=folder.id, ChangeKey=folder.change_key)
    standard: dict[str, Callable[[], Element]] = {
        "ItemClass": lambda: t("ItemClass", ITEM_CLASSES[item.kind]),
        "DateTimeCreated": lambda: t("DateTimeCreated", format_datetime(item.created)),
        "LastModifiedTime": lambda: t("LastModifiedTime", format_datetime(item.last_modified)),
        "HasAttachments": lambda: t("HasAttachments", format_bool(bool(item.attachments))),
        "Size": lambda: t("Size", str(item_size(item))),
        "TextBody": lambda: t("TextBody", _text_body(item), BodyType="Text"),
    }
    for name, build in standard.items():
        if name not in parts and shape.wants(name):
            parts[name] = build()
    if item.attachments and shape.wants("Attachments"):
        atts = parts["Attachments"] = t("Attachments")
        for att in item.attachments:
            atts.append(render_attachment(attached_to or item, att, with_content=False))
    for name, el in (computed or {}).items():
        if shape.wants(name):
            parts[name] = el
    root = t(item.kind)
    for name in ITEM_ELEMENT_ORDER[item.kind]:
        if name == "ItemId" and attached_to is None:
            root.append(item_id if item_id is not None else item_id_element(item))
        elif name == "ExtendedProperty":
            for key in sorted(shape.extended & item.extended.keys()):
                root.append(copy.deepcopy(item.extended[key]))
        elif name in parts:
            el = parts[name]
            root.append(copy.deepcopy(el) if el.getparent() is None else el)
    return root


def _text_body(item: Item) -> str:
    """The body as plain text, which Exchange derives from an HTML body."""
    body = item.fields.get("Body")
    if body is None or not body.text:
        return ""
    if body.get("BodyType") != "HTML":
        return body.text
    return "".join(str(part) for part in lxml.html.fromstring(body.text).itertext())


def _filter_dictionary(el: Element, keys: set[str] | None, everything: bool) -> Element:
    if local(el) not in DICTIONARY_ELEMENTS or everything or keys is None:
        return el
    out = t(local(el))
    for entry in el:
        if entry.get("Key") in keys:
            out.append(copy.deepcopy(entry))
    return out if len(out) else el


def item_size(item: Item) -> int:
    # An estimate in the spirit of Exchange's: properties plus attachment bytes.
    mime = item.fields.get("MimeContent")
    base = len(mime.text or "") * 3 // 4 if mime is not None else 512
    return base + sum(
        len(a.content) if a.item is None else item_size(a.item) for a in item.attachments
    )


def item_id_element(item: Item) -> Element:
    return t("ItemId", Id=item.id, ChangeKey=item.change_key)
