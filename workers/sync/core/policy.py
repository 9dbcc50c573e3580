"""What the planner is told about an entity: its directions, conflict and deletion policies."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from app.kit.sync_policy import ConflictPolicy, Direction, OutlookDeleteMode
from workers.sync.core.records import Record

MatchKeys: TypeAlias = Callable[[Record], Sequence[Hashable | None]]


@dataclass(frozen=True)
class EntityPolicy:
    direction: Direction
    conflict_policy: ConflictPolicy
    on_outlook_delete: OutlookDeleteMode
    # First-sync matching keys in priority order; None where an item has no such key.
    match_keys: MatchKeys
    mass_delete_threshold: float = 0.5
    mass_delete_minimum: int = 10
    deletions_confirmed: bool = False
    # Fields that flow one way only; the others follow `direction`.
    field_directions: Mapping[str, Direction] = field(default_factory=dict)

    def direction_of(self, name: str) -> Direction:
        return self.field_directions.get(name, self.direction)
