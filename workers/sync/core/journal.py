"""What a pass did: counts per direction and outcome, item-level log entries, conflicts.

Kept in memory by the core; the runner records it with the run (entries at or above the user's
log level, counts, conflicts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from app.kit.sync_policy import Direction
from app.kit.sync_terms import EntryLevel
from workers.sync.core.actions import Applied, ConflictRecord


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    CONFLICTS = "conflicts"
    SKIPPED = "skipped"
    ERRORS = "errors"


class ActionKind(StrEnum):
    CREATE_IN_OUTLOOK = "create_in_outlook"
    UPDATE_OUTLOOK = "update_outlook"
    DELETE_IN_OUTLOOK = "delete_in_outlook"
    CREATE_IN_CRM = "create_in_crm"
    UPDATE_CRM = "update_crm"
    DELETE_IN_CRM = "delete_in_crm"
    LINK = "link"
    REFRESH_BASE = "refresh_base"
    DROP_LINK = "drop_link"
    HOLD = "hold"
    SKIP = "skip"
    GUARD = "guard"


@dataclass(frozen=True)
class LogEntry:
    level: EntryLevel
    crm_id: str | None
    remote_id: str | None
    action: ActionKind
    message: str


@dataclass
class Journal:
    """What a run did: counts per direction and outcome, item-level entries, conflicts."""

    counts: Counter[tuple[Direction, Outcome]] = field(default_factory=Counter)
    entries: list[LogEntry] = field(default_factory=list)
    conflicts: list[ConflictRecord] = field(default_factory=list)

    def log(
        self,
        level: EntryLevel,
        action: ActionKind,
        message: str,
        *,
        crm_id: str | None = None,
        remote_id: str | None = None,
    ) -> None:
        self.entries.append(LogEntry(level, crm_id, remote_id, action, message))

    def count(self, direction: Direction, outcome: Outcome, amount: int = 1) -> None:
        self.counts[direction, outcome] += amount

    @property
    def errors(self) -> int:
        return sum(
            amount for (_, outcome), amount in self.counts.items() if outcome is Outcome.ERRORS
        )

    def absorb(self, other: Journal) -> None:
        """Add another journal's counts, entries and conflicts to this one."""
        self.counts.update(other.counts)
        self.entries.extend(other.entries)
        self.conflicts.extend(other.conflicts)


# The direction a conflict counts in, by whose value it ended with.
APPLIED_FLOW = {
    Applied.CRM: Direction.CRM_TO_OUTLOOK,
    Applied.OUTLOOK: Direction.OUTLOOK_TO_CRM,
    Applied.PENDING: Direction.BOTH,
    Applied.NOTHING: Direction.BOTH,
}

# The direction and outcome a done (or failed) write counts as.
KIND_COUNTS: Mapping[ActionKind, tuple[Direction, Outcome]] = {
    ActionKind.CREATE_IN_OUTLOOK: (Direction.CRM_TO_OUTLOOK, Outcome.CREATED),
    ActionKind.UPDATE_OUTLOOK: (Direction.CRM_TO_OUTLOOK, Outcome.UPDATED),
    ActionKind.DELETE_IN_OUTLOOK: (Direction.CRM_TO_OUTLOOK, Outcome.DELETED),
    ActionKind.CREATE_IN_CRM: (Direction.OUTLOOK_TO_CRM, Outcome.CREATED),
    ActionKind.UPDATE_CRM: (Direction.OUTLOOK_TO_CRM, Outcome.UPDATED),
    ActionKind.DELETE_IN_CRM: (Direction.OUTLOOK_TO_CRM, Outcome.DELETED),
}
