"""Contacts in canonical form: CRM person values ↔ records keyed by Outlook field names.

The admin's contact mapping pairs CRM paths (see app.crm.people) with Outlook fields; a record
uses the Outlook names on both sides, normalized alike so that equal data compares equal.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from app.crm.paths import PersonValues
from workers.sync.core.contact_values import normalized
from workers.sync.core.planner import Direction
from workers.sync.core.records import Record, Value


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
