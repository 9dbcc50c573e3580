"""CreateAttachment, GetAttachment and DeleteAttachment (file and item attachments)."""

from __future__ import annotations

from ews_simulator import calendar, kinds
from ews_simulator.ids import ATTACHMENT_ID, check_id
from ews_simulator.items import all_attachments, attachment_from_xml, render_attachment
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
from ews_simulator.xml import Element, local, m, t


def _owner(mailbox: Mailbox, att_id: str) -> tuple[Item, Attachment, list[Attachment]]:
    """The root item of an attachment, the attachment, and the list that holds it."""
    check_id(att_id, ATTACHMENT_ID)
    _, _, item_id = att_id.partition("_")
    root = mailbox.find_item(item_id)
    holders = [root] if root is not None else []
    holders += [att.item for att in all_attachments(root) if att.item] if root else []
    for holder in holders:
        for att in holder.attachments:
            if att.id == att_id:
                return root, att, holder.attachments  # type: ignore[return-value]
    raise EwsError("ErrorInvalidAttachmentId", "The attachment was not found.")


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
        if att.item is not None:
            for nested in all_attachments(att.item):
                nested.id = attachment_id(item.id)
            kinds.apply_defaults(att.item, ctx.mailbox)
        item.attachments.append(att)
        ctx.mailbox.updated(item)
        out = m("Attachments")
        created = t(local(el))
        created.append(
            t("AttachmentId", Id=att.id, RootItemId=item.id, RootItemChangeKey=item.change_key)
        )
        out.append(created)
        return [out]

    return each(op, required_m(ctx.body, "Attachments"), one)


@operation("GetAttachment")
def get_attachment(ctx: OperationContext) -> Element:
    def one(el: Element) -> list[Element]:
        item, att, _ = _owner(ctx.mailbox, el.get("Id") or "")
        out = m("Attachments")
        out.append(render_attachment(item, att, with_content=True, mailbox=ctx.mailbox))
        return [out]

    return each("GetAttachment", required_m(ctx.body, "AttachmentIds"), one)


@operation("DeleteAttachment")
def delete_attachment(ctx: OperationContext) -> Element:
    def one(el: Element) -> list[Element]:
        item, att, holder = _owner(ctx.mailbox, el.get("Id") or "")
        holder.remove(att)
        ctx.mailbox.updated(item)
        return [m("RootItemId", RootItemId=item.id, RootItemChangeKey=item.change_key)]

    return each("DeleteAttachment", required_m(ctx.body, "AttachmentIds"), one)
