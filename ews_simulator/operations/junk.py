"""MarkAsJunk: junk mail moves to Junk Email, mail marked as not junk back to the Inbox."""

from __future__ import annotations

from ews_simulator.operations.base import OperationContext, each, operation, required_m
from ews_simulator.operations.items import move, resolve_item_id
from ews_simulator.xml import Element, m, parse_bool


@operation("MarkAsJunk")
def mark_as_junk(ctx: OperationContext) -> Element:
    is_junk = parse_bool(ctx.body.get("IsJunk"))
    move_item = parse_bool(ctx.body.get("MoveItem"))
    target = ctx.mailbox.distinguished["junkemail" if is_junk else "inbox"]

    def one(el: Element) -> list[Element]:
        item = resolve_item_id(ctx.mailbox, el)
        # Exchange also adds the sender to the blocked or safe senders list; the simulator keeps
        # no such lists, so only the move is visible.
        if not move_item or item.folder_id == target:
            return []
        moved = move(ctx.mailbox, item, target)
        return [m("MovedItemId", Id=moved.id, ChangeKey=moved.change_key)]

    return each("MarkAsJunk", required_m(ctx.body, "ItemIds"), one)
