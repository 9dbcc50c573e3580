"""MimeContent as Exchange synthesises it for an item created from properties.

Exchange writes the envelope headers (Date, From, To, Cc, Subject, Message-ID), the body, and
one part per attachment: file attachments with their name and type, attached items as
message/rfc822 parts carrying the attached item's own MIME, recursively.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
from email.message import EmailMessage
from email.parser import BytesParser

from ews_simulator.items import text_value
from ews_simulator.store import Item
from ews_simulator.xml import T_NS, Element, parse_datetime, qn, t


def mime_content(item: Item) -> Element:
    """The item's MimeContent element: what the client uploaded, else synthesised."""
    stored = item.fields.get("MimeContent")
    if stored is not None and not item.attachments:
        return stored
    raw = message_bytes(item)
    return t("MimeContent", base64.b64encode(raw).decode(), CharacterSet="UTF-8")


def message_bytes(item: Item) -> bytes:
    return _message(item).as_bytes(policy=email.policy.SMTP)


def _message(item: Item) -> EmailMessage:
    stored = item.fields.get("MimeContent")
    if stored is not None and stored.text and not item.attachments:
        parsed = BytesParser(policy=email.policy.default).parsebytes(base64.b64decode(stored.text))
        assert isinstance(parsed, EmailMessage)
        return parsed
    msg = EmailMessage()
    sent = text_value(item, "DateTimeSent") or text_value(item, "DateTimeCreated")
    msg["Date"] = email.utils.format_datetime(parse_datetime(sent) if sent else item.created)
    for name, header in (("From", "From"), ("ToRecipients", "To"), ("CcRecipients", "Cc")):
        addresses = _addresses(item.fields.get(name))
        if addresses:
            msg[header] = ", ".join(addresses)
    msg["Subject"] = text_value(item, "Subject") or ""
    message_id = text_value(item, "InternetMessageId")
    if message_id:
        msg["Message-ID"] = message_id
    body = item.fields.get("Body")
    subtype = "html" if body is not None and body.get("BodyType") == "HTML" else "plain"
    msg.set_content(body.text or "" if body is not None else "", subtype=subtype)
    for att in item.attachments:
        if att.item is not None:
            msg.add_attachment(_message(att.item), filename=f"{att.name}.eml")
            continue
        maintype, _, subtype = att.content_type.partition("/")
        if maintype == "text":
            text = att.content.decode("utf-8", errors="replace")
            msg.add_attachment(
                text, subtype=subtype or "plain", filename=att.name, cid=att.content_id
            )
        else:
            msg.add_attachment(
                att.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=att.name,
                cid=att.content_id,
                disposition="inline" if att.is_inline else "attachment",
            )
    return msg


def _addresses(el: Element | None) -> list[str]:
    if el is None:
        return []
    out = []
    for box in el.iter(qn(T_NS, "Mailbox")):
        address = box.findtext(qn(T_NS, "EmailAddress")) or ""
        name = box.findtext(qn(T_NS, "Name")) or ""
        if address:
            out.append(email.utils.formataddr((name if name != address else "", address)))
    return out
