"""Phone numbers as Sage CRM stores them (country, area code, number) and as Outlook shows them."""

from __future__ import annotations

import re
from typing import NamedTuple

_COMPOSED = re.compile(
    r"^\s*(?:\+(?P<country>\d{1,4})\s*)?(?:\((?P<area>[\d ]{1,8})\)\s*)?(?P<number>.*?)\s*$"
)


class PhoneParts(NamedTuple):
    country_code: str | None
    area_code: str | None
    number: str | None


def compose_phone(parts: PhoneParts) -> str | None:
    """'+44 (20) 7946 0958' from its parts; the parts that are missing are left out."""
    pieces = []
    if parts.country_code:
        pieces.append(f"+{parts.country_code}")
    if parts.area_code:
        pieces.append(f"({parts.area_code})")
    if parts.number:
        pieces.append(parts.number)
    return " ".join(pieces) or None


def split_phone(text: str | None) -> PhoneParts:
    """The inverse of compose_phone for what it composes; other text goes whole into `number`."""
    if text is None or not text.strip():
        return PhoneParts(None, None, None)
    match = _COMPOSED.match(text)
    assert match is not None  # the pattern matches every string
    return PhoneParts(
        match["country"], (match["area"] or "").strip() or None, match["number"] or None
    )
