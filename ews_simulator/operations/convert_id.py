"""ConvertId: exchangelib uses it as a cheap probe of version and credentials."""

from __future__ import annotations

from ews_simulator.operations.base import OperationContext, each, operation, required_m
from ews_simulator.xml import Element, m

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


@operation("ConvertId")
def convert_id(ctx: OperationContext) -> Element:
    destination = ctx.body.get("DestinationFormat") or "EwsId"

    def one(el: Element) -> list[Element]:
        # Ids are opaque in every format here, so conversion only relabels them.
        out = m("AlternateId", Format=destination, Id=el.get("Id") or "")
        out.set(f"{{{XSI_NS}}}type", "t:AlternateIdType")
        if el.get("Mailbox"):
            out.set("Mailbox", el.get("Mailbox") or "")
        return [out]

    return each("ConvertId", required_m(ctx.body, "SourceIds"), one)
