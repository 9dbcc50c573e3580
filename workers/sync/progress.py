"""A running run's progress per entity, kept on its run row for `GET /runs/{id}`.

Figures add up over an entity's passes: `listed` changes read from both sides, `planned`
actions to apply, `applied` of them so far. The row is written at most every
`PERSIST_SECONDS`, and only where the sync session has just committed (a pass begins, a batch
was applied, an entity ends): on SQLite a second writer would otherwise wait on the first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import update

from app.db import unit_of_work
from app.models.sync import SyncRun

logger = logging.getLogger("crmsync.sync")

PERSIST_SECONDS = 2.0

Snapshot = dict[str, dict[str, Any]]
ProgressListener = Callable[[Snapshot], None]


@dataclass
class EntityProgress:
    phase: str = "waiting"  # waiting, listing, applying, done
    listed: int = 0
    planned: int = 0
    applied: int = 0


class RunProgress:
    def __init__(
        self,
        run_id: int,
        entities: Iterable[str],
        listener: ProgressListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run_id = run_id
        self.entities = {entity: EntityProgress() for entity in entities}
        self.listener = listener
        self.clock = clock
        self._persisted_at = float("-inf")

    def of(self, entity: str) -> EntityReporter:
        """What one entity's passes report to (workers.sync.core.sync_pass.PassProgress)."""
        return EntityReporter(self, entity)

    def snapshot(self) -> Snapshot:
        return {entity: asdict(progress) for entity, progress in self.entities.items()}

    def listing(self, entity: str) -> None:
        self._of(entity).phase = "listing"
        self._changed(persist=True)

    def planned(self, entity: str, listed: int, planned: int) -> None:
        progress = self._of(entity)
        progress.phase = "applying"
        progress.listed += listed
        progress.planned += planned
        self._changed(persist=False)

    def applied(self, entity: str, count: int) -> None:
        self._of(entity).applied += count
        self._changed(persist=True)

    def done(self, entity: str) -> None:
        self._of(entity).phase = "done"
        self._changed(persist=True, now=True)

    def _of(self, entity: str) -> EntityProgress:
        return self.entities.setdefault(entity, EntityProgress())

    def _changed(self, *, persist: bool, now: bool = False) -> None:
        snapshot = self.snapshot()
        if self.listener is not None:
            self.listener(snapshot)
        if persist and (now or self.clock() - self._persisted_at >= PERSIST_SECONDS):
            self._persisted_at = self.clock()
            self._persist(snapshot)

    def _persist(self, snapshot: Snapshot) -> None:
        try:
            with unit_of_work() as db:
                db.execute(
                    update(SyncRun).where(SyncRun.id == self.run_id).values(progress=snapshot)
                )
        except Exception:  # progress is a courtesy: the run goes on without it
            logger.debug("could not record the progress of run %s", self.run_id, exc_info=True)


@dataclass(frozen=True)
class EntityReporter:
    run: RunProgress
    entity: str

    def listing(self) -> None:
        self.run.listing(self.entity)

    def planned(self, *, listed: int, planned: int) -> None:
        self.run.planned(self.entity, listed=listed, planned=planned)

    def applied(self, count: int) -> None:
        self.run.applied(self.entity, count)
