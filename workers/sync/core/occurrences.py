"""The modified occurrences of a recurring series, as appointment records carry them.

Part of the canonical appointment record shared by the CRM side and every connector: a series'
"occurrences" field is a sorted tuple of these, each a tuple of original start, start, end,
subject and location.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workers.sync.core.records import Value
from workers.sync.core.values import text


@dataclass(frozen=True)
class ModifiedOccurrence:
    """A modified occurrence as both sides describe it."""

    original_start: Value
    start: Value
    end: Value
    subject: str | None
    location: str | None

    def as_value(self) -> tuple[Value, ...]:
        return (self.original_start, self.start, self.end, self.subject, self.location)

    @classmethod
    def from_value(cls, value: Value) -> ModifiedOccurrence:
        assert isinstance(value, tuple) and len(value) == 5
        original, start, end, subject, location = value
        return cls(original, start, end, text(subject), text(location))


def sorted_exceptions(exceptions: Sequence[ModifiedOccurrence]) -> tuple[Value, ...]:
    return tuple(e.as_value() for e in sorted(exceptions, key=lambda e: str(e.original_start)))
