from __future__ import annotations

from fastapi import APIRouter

from app.deps import AdminPrincipal, DbSession
from app.kit.sync_terms import SyncEntity
from app.mappings import service
from app.mappings.schemas import FieldMapping, TaskStatusMapping

router = APIRouter(prefix="/mappings", tags=["mappings"])


# The task-status routes come first: `/{entity}` would otherwise claim "task-status".
@router.get("/task-status")
def get_task_status_mapping(db: DbSession, _admin: AdminPrincipal) -> TaskStatusMapping:
    """How CRM task statuses and Outlook task statuses map onto each other."""
    return service.get_task_status_mapping(db)


@router.put("/task-status")
def replace_task_status_mapping(
    body: TaskStatusMapping, db: DbSession, _admin: AdminPrincipal
) -> TaskStatusMapping:
    """Replace the task status mapping; every status of each side needs a counterpart."""
    return service.replace_task_status_mapping(db, body)


@router.delete("/task-status")
def reset_task_status_mapping(db: DbSession, _admin: AdminPrincipal) -> TaskStatusMapping:
    """Restores the default task-status mapping and returns it."""
    return service.reset_task_status_mapping(db)


@router.get("/{entity}")
def get_mapping(entity: SyncEntity, db: DbSession, _admin: AdminPrincipal) -> list[FieldMapping]:
    """The field mapping of an entity: which CRM column pairs with which Outlook field, in which
    direction."""
    return service.get_mapping(db, entity)


@router.put("/{entity}")
def replace_mapping(
    entity: SyncEntity, body: list[FieldMapping], db: DbSession, _admin: AdminPrincipal
) -> list[FieldMapping]:
    """Replace an entity's field mapping; unknown columns or fields are refused with their
    names."""
    return service.replace_mapping(db, entity, body)


@router.delete("/{entity}")
def reset_mapping(entity: SyncEntity, db: DbSession, _admin: AdminPrincipal) -> list[FieldMapping]:
    """Restores the default mapping of the entity and returns it."""
    return service.reset_mapping(db, entity)
