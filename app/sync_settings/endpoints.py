from __future__ import annotations

from fastapi import APIRouter

from app.deps import AdminPrincipal, CurrentPrincipal, DbSession
from app.kit.validation import UserRef
from app.sync_settings import service
from app.sync_settings.schemas import EffectiveSettings, SettingsPatch, UserSettingsRead

router = APIRouter(tags=["settings"])


@router.get("/settings")
def get_global_settings(db: DbSession, _admin: AdminPrincipal) -> EffectiveSettings:
    """The global sync settings, with built-in defaults filled in; `crm_timezone` is the CRM
    server's zone for every conversion and audit column."""
    return service.effective_settings(db, None)


@router.put("/settings")
def update_global_settings(
    body: SettingsPatch, db: DbSession, _admin: AdminPrincipal
) -> EffectiveSettings:
    """Sets the fields the body names; a null returns a field to its built-in default."""
    return service.update_global(db, body)


@router.get("/users/{user_id}/settings")
def get_user_settings(
    user_id: UserRef, db: DbSession, principal: CurrentPrincipal
) -> UserSettingsRead:
    """A user's own overrides and the settings their synchronization actually uses."""
    return service.read_user_settings(db, principal.resolve_user(user_id))


@router.put("/users/{user_id}/settings")
def update_user_settings(
    user_id: UserRef, body: SettingsPatch, db: DbSession, principal: AdminPrincipal
) -> UserSettingsRead:
    """Sets the overrides the body names; a null makes the user inherit the global value."""
    return service.update_user_settings(db, principal.resolve_user(user_id), body)
