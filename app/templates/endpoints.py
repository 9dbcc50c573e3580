from __future__ import annotations

from fastapi import APIRouter

from app.deps import AdminPrincipal, DbSession
from app.kit.sync_terms import SyncEntity
from app.templates import service
from app.templates.schemas import TemplateRead, TemplateWrite

router = APIRouter(prefix="/templates", tags=["templates"])


@router.get("/{entity}")
def get_template(entity: SyncEntity, db: DbSession, _admin: AdminPrincipal) -> TemplateRead:
    """The template of the CRM details added to Outlook bodies of appointments or tasks."""
    return service.read_template(db, entity)


@router.put("/{entity}")
def replace_template(
    entity: SyncEntity, body: TemplateWrite, db: DbSession, _admin: AdminPrincipal
) -> TemplateRead:
    """Saves the template once it renders against sample data; 422 names what fails."""
    return service.replace_template(db, entity, body)


@router.delete("/{entity}")
def reset_template(entity: SyncEntity, db: DbSession, _admin: AdminPrincipal) -> TemplateRead:
    """Restores the default template and returns it."""
    return service.reset_template(db, entity)
