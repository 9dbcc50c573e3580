"""What the calendar and task codecs share: bodies with the details block, privacy, reminders."""

from __future__ import annotations

import html
import re
from typing import Any

from exchangelib import Body, HTMLBody

from workers.sync.core.details import join_body, split_body
from workers.sync.core.records import Record, Value
from workers.sync.core.values import DETAILS

PRIVATE_SENSITIVITIES = ("Private", "Confidential")
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div)\b[^>]*>", re.IGNORECASE)


def body_text(body: Any) -> str | None:
    """A body as plain text; an HTML body (written in Outlook) loses its markup."""
    if body is None:
        return None
    if isinstance(body, HTMLBody):
        return html.unescape(_TAG.sub("", _BREAK.sub("\n", str(body))))
    return str(body)


def read_body(item: Any, fields: frozenset[str], values: dict[str, Value]) -> None:
    if "body" in fields:
        values["body"], values[DETAILS] = split_body(body_text(item.body))


def write_body(record: Record) -> Body:
    note, details = record.get("body"), record.get(DETAILS)
    return Body(
        join_body(
            note if isinstance(note, str) else None, details if isinstance(details, str) else None
        )
    )


def is_private(item: Any) -> bool:
    return item.sensitivity in PRIVATE_SENSITIVITIES


def sensitivity(record: Record) -> str:
    return "Private" if record.get("private") else "Normal"
