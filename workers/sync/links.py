"""Stored links and the conflict log, in the job's database session (ports.LinkStore)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import commit
from app.kit.tagged_json import decode, encode
from app.models.sync import ConflictStatus, SyncConflict, SyncLink
from workers.sync.core.planner import Applied, ConflictRecord, LinkState, record_hash
from workers.sync.core.records import Value


def encode_record(record: Mapping[str, Value]) -> dict[str, Any]:
    return {name: encode(value) for name, value in record.items()}


def decode_record(data: Mapping[str, Any]) -> dict[str, Value]:
    return {name: decode(value) for name, value in data.items()}


def to_state(row: SyncLink) -> LinkState:
    return LinkState(
        crm_id=row.crm_id,
        remote_id=row.remote_id,
        change_key=row.change_key,
        base=decode_record(row.base),
        pending=decode_record(row.pending),
        held=row.held,
    )


class DatabaseLinkStore:
    """Links of one user and entity; commits together with the CRM writes of the same session."""

    def __init__(self, db: Session, user_id: int, entity: str, run_id: int | None) -> None:
        self.db = db
        self.user_id = user_id
        self.entity = entity
        self.run_id = run_id
        rows = db.scalars(
            select(SyncLink).where(SyncLink.user_id == user_id, SyncLink.entity == entity)
        )
        self._by_crm_id: dict[str, SyncLink] = {row.crm_id: row for row in rows}
        self._by_remote_id = {row.remote_id: row for row in self._by_crm_id.values()}

    def states(self) -> list[LinkState]:
        return [to_state(row) for row in self._by_crm_id.values()]

    def save(self, previous: LinkState | None, current: LinkState) -> None:
        if previous is not None and previous.crm_id != current.crm_id:
            self._drop(self._by_crm_id.get(previous.crm_id))
        clash = self._by_remote_id.get(current.remote_id)
        if clash is not None and clash.crm_id != current.crm_id:
            self._drop(clash)
        row = self._by_crm_id.get(current.crm_id)
        if row is None:
            row = SyncLink(user_id=self.user_id, entity=self.entity, crm_id=current.crm_id)
            self.db.add(row)
            self._by_crm_id[current.crm_id] = row
        else:
            self._by_remote_id.pop(row.remote_id, None)
        self._by_remote_id[current.remote_id] = row
        row.remote_id = current.remote_id
        row.change_key = current.change_key
        row.base = encode_record(current.base)
        row.pending = encode_record(current.pending)
        row.held = current.held
        row.crm_hash = row.remote_hash = record_hash(current.base)

    def delete(self, link: LinkState) -> None:
        self._drop(self._by_crm_id.get(link.crm_id))

    def _drop(self, row: SyncLink | None) -> None:
        if row is None:
            return
        del self._by_crm_id[row.crm_id]
        self._by_remote_id.pop(row.remote_id, None)
        self.db.delete(row)
        # Flushed at once: the unit of work inserts before it deletes, and a new row may take
        # this one's ids under the unique constraints.
        self.db.flush()

    def record_conflicts(self, conflicts: Sequence[ConflictRecord]) -> None:
        for conflict in conflicts:
            held = conflict.applied is Applied.NOTHING
            self.db.add(
                SyncConflict(
                    user_id=self.user_id,
                    run_id=self.run_id,
                    entity=self.entity,
                    crm_id=conflict.crm_id or "",
                    remote_id=conflict.remote_id,
                    field=conflict.field,
                    crm_value={"value": encode(conflict.crm_value)},
                    outlook_value={"value": encode(conflict.outlook_value)},
                    base_value={"value": encode(conflict.base_value)},
                    applied=conflict.applied.value,
                    decided_by=conflict.decided_by.value,
                    status=ConflictStatus.OPEN if held else ConflictStatus.RECORDED,
                )
            )
        self.db.flush()

    def commit(self) -> None:
        commit(self.db)

    def discard(self) -> None:
        self.db.rollback()
