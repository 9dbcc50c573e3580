"""The item-failures port over `crmsync_item_failure`, in the job's database session.

An item a pass could not read is counted here: tried again after a back-off that doubles with
each failure (CRMSYNC_ITEM_RETRY_BASE_SECONDS, at most a day), and held for an administrator
after CRMSYNC_ITEM_FAILURE_LIMIT failures, until its log entry is retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models.sync import ItemFailure
from workers.sync.core.ports import ItemIds, PendingFailures

_LONGEST_BACK_OFF = timedelta(days=1)


class DatabaseItemFailures:
    """One user's and entity's failed items (the sync core's ItemFailures port)."""

    def __init__(
        self,
        db: Session,
        user_id: int,
        entity: str,
        *,
        limit: int,
        retry_base: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.entity = entity
        self.limit = limit
        self.retry_base = retry_base
        self.clock = clock

    def _rows(self) -> list[ItemFailure]:
        return list(
            self.db.scalars(
                select(ItemFailure).where(
                    ItemFailure.user_id == self.user_id, ItemFailure.entity == self.entity
                )
            )
        )

    @staticmethod
    def _ids(rows: list[ItemFailure]) -> ItemIds:
        return ItemIds(
            frozenset(r.crm_id for r in rows if r.crm_id),
            frozenset(r.remote_id for r in rows if r.remote_id),
        )

    def pending(self) -> PendingFailures:
        now = self.clock()
        rows = self._rows()
        return PendingFailures(
            due=self._ids([r for r in rows if not r.held and r.retry_at <= now]),
            waiting=self._ids([r for r in rows if not r.held and r.retry_at > now]),
            held=self._ids([r for r in rows if r.held]),
        )

    def failed(
        self, reason: str, *, crm_id: str | None = None, remote_id: str | None = None
    ) -> bool:
        key = {"crm_id": crm_id or "", "remote_id": remote_id or ""}
        row = self.db.scalar(
            select(ItemFailure).filter_by(user_id=self.user_id, entity=self.entity, **key)
        )
        if row is None:
            row = ItemFailure(user_id=self.user_id, entity=self.entity, attempts=0, **key)
            self.db.add(row)
        row.attempts += 1
        row.reason = reason
        row.held = row.attempts >= self.limit
        back_off = min(self.retry_base * 2 ** (row.attempts - 1), _LONGEST_BACK_OFF)
        row.retry_at = self.clock() + back_off
        self.db.flush()
        return row.held

    def recovered(self, read: ItemIds) -> None:
        for column, ids in (
            (ItemFailure.crm_id, read.crm_ids),
            (ItemFailure.remote_id, read.remote_ids),
        ):
            if ids:
                self.db.execute(
                    delete(ItemFailure).where(
                        ItemFailure.user_id == self.user_id,
                        ItemFailure.entity == self.entity,
                        column.in_(sorted(ids)),
                    )
                )
