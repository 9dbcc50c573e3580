"""What appointments and tasks share: the admin's field mapping and common normalization.

Records use the Outlook field names of app.mappings.catalog on both sides. Two fields are
derived rather than mapped: "details" (the rendered details template, sent to Outlook only)
travels with "body", and "exdates" / "occurrences" travel with "recurrence".
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.sync.core.planner import Direction
from workers.sync.core.records import Value

DETAILS = "details"
EXDATES = "exdates"
OCCURRENCES = "occurrences"
IMPORTANCES = ("Low", "Normal", "High")


@dataclass(frozen=True)
class ItemMapping:
    """The Outlook fields an administrator maps, with their directions."""

    directions: dict[str, Direction]

    @property
    def fields(self) -> frozenset[str]:
        names = set(self.directions)
        if "body" in names:
            names.add(DETAILS)
        if "recurrence" in names:
            names |= {EXDATES, OCCURRENCES}
        return frozenset(names)

    def field_directions(self, forced: dict[str, Direction]) -> dict[str, Direction]:
        """One-way fields: the admin's, those a side cannot write (`forced`), and the details."""
        chosen: dict[str, Direction] = {
            name: d for name, d in self.directions.items() if d is not Direction.BOTH
        }
        derived = {EXDATES: "recurrence", OCCURRENCES: "recurrence"}
        for name, source in derived.items():
            if source in chosen:
                chosen[name] = chosen[source]
        chosen[DETAILS] = Direction.CRM_TO_OUTLOOK
        chosen.update({name: d for name, d in forced.items() if name in self.fields})
        return chosen

    def only(self, record: dict[str, Value]) -> dict[str, Value]:
        fields = self.fields
        return {name: value for name, value in record.items() if name in fields}


def importance(value: str | None) -> str:
    """Priority and importance share Low/Normal/High; anything else (or nothing) is Normal."""
    for known in IMPORTANCES:
        if value and value.strip().casefold() == known.casefold():
            return known
    return "Normal"


def text(value: object) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def email(value: object) -> str | None:
    found = text(value)
    return found.casefold() if found else None


def members(value: Value) -> tuple[Value, ...]:
    """The members of a tuple-valued field (attendees, exdates, occurrences); none otherwise."""
    return value if isinstance(value, tuple) else ()
