"""The checkpoint port over the folder state rows, in the job's database session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.sync import FolderState, SkippedItem
from workers.sync.core.ports import Checkpoint
from workers.sync.core.sync_pass import SkippedItems


class FolderCheckpoint:
    """Where one user's entity last left off; committed with the links (CheckpointStore)."""

    def __init__(self, db: Session, user_id: int, entity: str) -> None:
        self.db = db
        self.user_id = user_id
        self.entity = entity

    def _row(self) -> FolderState:
        state = self.db.get(FolderState, (self.user_id, self.entity))
        if state is None:
            state = FolderState(user_id=self.user_id, entity=self.entity, deletions_confirmed=False)
            self.db.add(state)
            self.db.flush()
        return state

    def load(self) -> Checkpoint:
        state = self._row()
        return Checkpoint(state.sync_state, state.crm_watermark, state.deletions_confirmed)

    def advance(self, sync_state: str | None, crm_watermark: datetime) -> None:
        state = self._row()
        state.sync_state = sync_state
        state.crm_watermark = crm_watermark
        state.deletions_confirmed = False


def skipped_items(db: Session, user_id: int, entity: str) -> SkippedItems:
    """The items an administrator chose to skip from the run log."""
    rows = db.execute(
        select(SkippedItem.crm_id, SkippedItem.remote_id).where(
            SkippedItem.user_id == user_id, SkippedItem.entity == entity
        )
    ).all()
    return SkippedItems(
        frozenset(crm_id for crm_id, _ in rows if crm_id is not None),
        frozenset(remote_id for _, remote_id in rows if remote_id is not None),
    )
