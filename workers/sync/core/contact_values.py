"""Contact values in records: one spelling for one value, whichever side read it.

Part of the canonical contact record shared by the CRM side and every connector: trimmed text,
no empty strings, phones composed as the CRM composes them, streets as up to four lines.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.crm.paths import split_street
from app.crm.phones import compose_phone, split_phone
from workers.sync.core.records import Value

PHONE_FIELDS = frozenset(
    {"business_phone", "home_phone", "mobile_phone", "business_fax", "other_phone"}
)
STREET_FIELDS = frozenset({"business_street", "home_street"})
EMAIL_FIELDS = frozenset({"email1", "email2", "email3"})


def normalize(field: str, value: Value) -> Value:
    """One spelling for one value: trimmed text, no empty strings, composed phones and streets."""
    if not isinstance(value, str):
        return value
    if field in STREET_FIELDS:
        lines = [line for line in split_street(value) if line]
        return "\n".join(lines) or None
    text = value.strip()
    if not text:
        return None
    if field in PHONE_FIELDS:
        return compose_phone(split_phone(text))
    return text


def normalized(record: Mapping[str, Value]) -> dict[str, Value]:
    return {name: normalize(name, value) for name, value in record.items()}
