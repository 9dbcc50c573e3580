"""Conflicts an administrator reviews and resolves, and deletions the guard held back.

Resolving puts the chosen value into the link's pending values; the next run writes it to
both sides. Nothing here touches the CRM or the mailbox directly.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.conflicts import repository
from app.conflicts.schemas import ConflictRead, ConflictResolve, ConflictSide
from app.kit import tagged_json
from app.kit.clock import utc_now
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.kit.sync_terms import SyncEntity
from app.models.sync import ConflictStatus, FolderState, SyncConflict
from app.runs import service as runs_service
from app.runs.schemas import RunQueued

# SyncConflict.decided_by of a resolution through the API (the engine's Decider.ADMIN).
DECIDED_BY_ADMIN = "admin"


def to_read(conflict: SyncConflict) -> ConflictRead:
    return ConflictRead(
        id=conflict.id,
        user_id=conflict.user_id,
        run_id=conflict.run_id,
        entity=SyncEntity(conflict.entity),
        crm_id=conflict.crm_id,
        remote_id=conflict.remote_id,
        field=conflict.field,
        crm_value=tagged_json.to_plain(conflict.crm_value.get("value")),
        outlook_value=tagged_json.to_plain(conflict.outlook_value.get("value")),
        base_value=tagged_json.to_plain(conflict.base_value.get("value")),
        applied=conflict.applied,
        decided_by=conflict.decided_by,
        status=conflict.status,
        created_at=conflict.created_at,
        resolved_at=conflict.resolved_at,
    )


def get_visible_conflict(db: Session, principal: Principal, conflict_id: int) -> SyncConflict:
    conflict = repository.get_conflict(db, conflict_id)
    if conflict is None or (not principal.is_admin and conflict.user_id != principal.user_id):
        raise NotFound(f"no conflict {conflict_id}")
    return conflict


def list_conflicts(
    db: Session,
    principal: Principal,
    *,
    user_id: int | None,
    status: ConflictStatus | None,
    entity: SyncEntity | None,
    page: PageRequest,
) -> Page[ConflictRead]:
    if not principal.is_admin:
        user_id = principal.user_id
    conflicts = repository.list_conflicts(
        db,
        user_id=user_id,
        status=status,
        entity=entity.value if entity else None,
        after_id=page.after_id,
        limit=page.limit + 1,
    )
    return make_page([to_read(c) for c in conflicts], [c.id for c in conflicts], page)


def resolve(
    db: Session, principal: Principal, conflict_id: int, body: ConflictResolve
) -> ConflictRead:
    """Applies one side's value on the next run; a resolved conflict may be re-applied."""
    conflict = get_visible_conflict(db, principal, conflict_id)
    link = repository.get_link_for_update(db, conflict.user_id, conflict.entity, conflict.crm_id)
    if link is None:
        raise Conflict(
            f"conflict {conflict_id} can no longer be resolved: {conflict.entity} "
            f"{conflict.crm_id} is no longer synchronized"
        )
    chosen = conflict.crm_value if body.apply is ConflictSide.CRM else conflict.outlook_value
    # A new dict rather than an in-place change, so the JSON column is seen as modified.
    link.pending = {**link.pending, conflict.field: chosen.get("value")}
    conflict.status = ConflictStatus.RESOLVED
    conflict.applied = body.apply.value
    conflict.decided_by = DECIDED_BY_ADMIN
    conflict.resolved_at = utc_now()
    db.flush()
    if repository.count_open_conflicts(db, link.user_id, link.entity, link.crm_id) == 0:
        link.held = False
        db.flush()
    return to_read(conflict)


def confirm_deletions(db: Session, principal: Principal, run_id: int) -> RunQueued:
    """Lets the deletions the mass-deletion guard held back in a run go, on a new run."""
    run = runs_service.get_visible_run(db, principal, run_id)
    if not run.deletions_held:
        raise Conflict(f"run {run_id} held no deletions back; there is nothing to confirm")
    for entity in SyncEntity:
        state = repository.get_folder_state(db, run.user_id, entity.value)
        if state is None:
            state = FolderState(user_id=run.user_id, entity=entity.value)
            db.add(state)
        state.deletions_confirmed = True
    db.flush()
    queued = runs_service.queue_run(db, run.user_id, trigger="confirm")
    return RunQueued(run_id=queued.id)
