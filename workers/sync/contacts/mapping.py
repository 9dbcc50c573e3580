"""Contacts in canonical form: CRM person values ↔ records keyed by Outlook field names.

The admin's contact mapping pairs CRM paths (see app.crm.people) with Outlook fields; a record
uses the Outlook names on both sides, normalized alike so that equal data compares equal.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from app.crm.people import PersonValues, split_street
from app.crm.phones import compose_phone, split_phone
from workers.sync.core.planner import Direction
from workers.sync.core.records import Record, Value

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


@dataclass(frozen=True)
class FieldPair:
    crm: str
    outlook: str
    direction: Direction


@dataclass(frozen=True)
class ContactMapping:
    pairs: tuple[FieldPair, ...]

    @property
    def outlook_fields(self) -> tuple[str, ...]:
        return tuple(pair.outlook for pair in self.pairs)

    @property
    def field_directions(self) -> dict[str, Direction]:
        return {p.outlook: p.direction for p in self.pairs if p.direction is not Direction.BOTH}

    def record_from_crm(self, values: PersonValues) -> dict[str, Value]:
        return normalized({pair.outlook: values.get(pair.crm) for pair in self.pairs})

    def crm_changes(self, changes: Record) -> dict[str, str | None]:
        """Outlook-named changes as CRM-path values for app.crm.people.PersonWriter."""
        by_outlook = {pair.outlook: pair.crm for pair in self.pairs}
        result: dict[str, str | None] = {}
        for name, value in changes.items():
            if name in by_outlook:
                result[by_outlook[name]] = None if value is None else str(value)
        return result


def _folded(value: Value) -> str | None:
    return value.casefold() if isinstance(value, str) and value else None


def contact_match_keys(record: Record) -> Sequence[Hashable | None]:
    """First-sync matching (sync-rules): email address, else first+middle+last name and company."""
    email = _folded(record.get("email1")) or _folded(record.get("email2"))
    names = tuple(_folded(record.get(name)) for name in ("first_name", "middle_name", "last_name"))
    name_key = (*names, _folded(record.get("company"))) if any(names) else None
    return (("email", email) if email else None, ("name", name_key) if name_key else None)
