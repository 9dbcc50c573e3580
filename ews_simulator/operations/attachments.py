"""CreateAttachment, GetAttachment and DeleteAttachment (file attachments)."""

from __future__ import annotations

from ews_simulator import calendar
from ews_simulator.ids import ATTACHMENT_ID, check_id
from ews_simulator.items import attachment_from_xml, render_attachment
from ews_simulator.operations.base import (
    OperationContext,
    each,
    error,
    operation,
    required_m,
    respond,
)
from ews_simulator.operations.items import attachment_id
from ews_simulator.soap import EwsError
from ews_simulator.store import Attachment, Item, Mailbox
from ews_simulator.xml import Element, m, t


def _owner(mailbox: Mailbox, att_id: str) -> tuple[Item, Attachment]:
    check_id(att_id, ATTACHMENT_ID)
    _, sep, item_id = att_id.partition("_")
    item = mailbox.find_item(item_id) if sep else None
    for att in item.attachments if item is not None else ():
        if att.id == att_id:
            return item, att  # type: ignore[return-value]
    raise EwsError("ErrorItemNotFound", "The attachment was not found.")


@operation("CreateAttachment")
def create_attachment(ctx: OperationContext) -> Element:
    op = "CreateAttachment"
    parent = required_m(ctx.body, "ParentItemId")
    try:
        item = calendar.resolve(ctx.mailbox, parent.get("Id") or "")
        if item.master_id is not None:
            raise EwsError("ErrorInvalidOperation", "Attach to the series or an exception.")
    except EwsError as e:
        return respond(op, [error(op, e)])

    def one(el: Element) -> list[Element]:
        att = attachment_from_xml(el)
        att.id = attachment_id(item.id)
        item.attachments.append(att)
        ctx.mailbox.updated(item)
        out = m("Attachments")
        created = t("FileAttachment")
        created.append(
            t("AttachmentId", Id=att.id, RootItemId=item.id, RootItemChangeKey=item.change_key)
        )
        out.append(created)
        return [out]

    return each(op, required_m(ctx.body, "Attachments"), one)


@operation("GetAttachment")
def get_attachment(ctx: OperationContext) -> Element:
    def one(el: Element) -> list[Element]:
        item, att = _owner(ctx.mailbox, el.get("Id") or "")
        out = m("Attachments")
        out.append(render_attachment(item, att, with_content=True))
        return [out]

    return each("GetAttachment", required_m(ctx.body, "AttachmentIds"), one)


@operation("DeleteAttachment")
def delete_attachment(ctx: OperationContext) -> Element:
    def one(el: Element) -> list[Element]:
        item, att = _owner(ctx.mailbox, el.get("Id") or "")
        item.attachments.remove(att)
        ctx.mailbox.updated(item)
        return [m("RootItemId", RootItemId=item.id, RootItemChangeKey=item.change_key)]

    return each("DeleteAttachment", required_m(ctx.body, "AttachmentIds"), one)
