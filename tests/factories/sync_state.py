"""Factories for sync state the engine would have written: runs, links and conflicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.kit import tagged_json
from app.models.sync import ConflictStatus, RunStatus, SyncConflict, SyncLink, SyncRun


def sync_run(db: Session, user_id: int, *, deletions_held: bool = False) -> SyncRun:
    run = SyncRun(
        user_id=user_id,
        status=RunStatus.SUCCESS_WITH_ERRORS if deletions_held else RunStatus.SUCCESS,
        trigger="schedule",
        counts={},
        deletions_held=deletions_held,
    )
    db.add(run)
    db.flush()
    return run


def sync_link(
    db: Session, user_id: int, *, entity: str = "tasks", crm_id: str = "101", held: bool = True
) -> SyncLink:
    link = SyncLink(
        user_id=user_id,
        entity=entity,
        crm_id=crm_id,
        remote_id=f"AAMk-{entity}-{crm_id}",
        base={},
        pending={},
        held=held,
    )
    db.add(link)
    db.flush()
    return link


def sync_conflict(
    db: Session,
    link: SyncLink,
    *,
    field: str = "subject",
    crm_value: Any = "CRM subject",
    outlook_value: Any = "Outlook subject",
    base_value: Any = "Old subject",
    status: ConflictStatus = ConflictStatus.OPEN,
) -> SyncConflict:
    conflict = SyncConflict(
        user_id=link.user_id,
        entity=link.entity,
        crm_id=link.crm_id,
        remote_id=link.remote_id,
        field=field,
        crm_value={"value": tagged_json.encode(crm_value)},
        outlook_value={"value": tagged_json.encode(outlook_value)},
        base_value={"value": tagged_json.encode(base_value)},
        applied="nothing" if status is ConflictStatus.OPEN else "crm",
        decided_by="review" if status is ConflictStatus.OPEN else "most_recent",
        status=status,
    )
    db.add(conflict)
    db.flush()
    return conflict
