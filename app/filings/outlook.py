"""Outlook .msg files read as MIME through extract-msg."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage, Message
from email.utils import format_datetime

# The signature every OLE compound file (and so every Outlook .msg) starts with.
_MSG_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
# Headers only a message has: a multipart carrying one is an email embedded in the .msg.
_MESSAGE_HEADERS = ("From", "Subject", "Message-ID", "Date")


class UnreadableOutlookFile(ValueError):
    """The file is no .msg of an email extract-msg can convert; the message says why."""


def is_outlook_msg(raw: bytes) -> bool:
    return raw.startswith(_MSG_SIGNATURE)


def msg_to_mime(raw: bytes) -> bytes:
    """An Outlook .msg file converted to MIME by extract-msg, headers completed from its
    properties (Outlook often keeps no transport headers for mail it composed)."""
    # Imported on demand: extract-msg pulls in a large dependency tree.
    import extract_msg
    from extract_msg.msg_classes import MessageBase

    try:
        outlook = extract_msg.openMsg(raw)
    except Exception as exc:  # noqa: BLE001 - extract-msg raises many kinds on bad input
        raise UnreadableOutlookFile(
            f"not an Outlook .msg file extract-msg can read: {exc}"
        ) from None
    if not isinstance(outlook, MessageBase):
        outlook.close()
        raise UnreadableOutlookFile(
            f"is an Outlook {type(outlook).__name__} file, not an email (.msg of a message)"
        )
    try:
        converted = outlook.asEmailMessage()
        completions = {
            "Subject": outlook.subject,
            "Message-ID": outlook.messageId,
            "From": outlook.sender,
            "Date": format_datetime(outlook.date) if outlook.date else None,
        }
        for header, value in completions.items():
            if value and not str(converted.get(header, "")).strip():
                del converted[header]
                converted[header] = value
        wrap_embedded_emails(converted)
        return bytes(converted.as_bytes(policy=policy.SMTP))
    except Exception as exc:  # noqa: BLE001 - as above: conversion of damaged files fails variously
        raise UnreadableOutlookFile(
            f"the Outlook .msg file could not be converted: {exc}"
        ) from None
    finally:
        outlook.close()


def wrap_embedded_emails(message: Message) -> None:
    """extract-msg puts an attached email's MIME straight into the parent's parts; as a
    message/rfc822 part it is read as what it is, an attached email with its own files."""
    children = message.get_payload()
    if not message.is_multipart() or not isinstance(children, list):
        return
    for position, child in enumerate(children):
        if child.is_multipart() and any(child.get(h) for h in _MESSAGE_HEADERS):
            wrapper = EmailMessage()
            wrapper.set_content(child)
            children[position] = wrapper
            wrap_embedded_emails(child)
        else:
            wrap_embedded_emails(child)
