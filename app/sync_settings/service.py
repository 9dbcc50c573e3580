"""Sync settings: built-in defaults, overridden globally, overridden again per user.

Only values an administrator set explicitly are stored, so a default changed in a later release
reaches everyone who never chose otherwise.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.kit.errors import InvalidInput
from app.models.sync import SettingsScope
from app.sync_settings import repository
from app.sync_settings.crm_zone import DEFAULT_CRM_TIMEZONE, GLOBAL_SCOPE, forget_crm_zone
from app.sync_settings.schemas import EffectiveSettings, SettingsPatch, UserSettingsRead
from app.users import service as users_service

_ENTITY_DEFAULTS = {"enabled": True, "direction": "both", "conflict_policy": "most_recent"}
_DEFAULTS: dict[str, Any] = {
    "contacts": {**_ENTITY_DEFAULTS, "on_outlook_delete": "unflag"},
    "appointments": {**_ENTITY_DEFAULTS, "on_outlook_delete": "delete"},
    "tasks": {**_ENTITY_DEFAULTS, "on_outlook_delete": "delete"},
    "interval_minutes": 15,
    "auto_sync": True,
    "first_sync_days": 14,
    "mass_delete_threshold": 0.5,
    "mass_delete_minimum": 10,
    "sync_private": False,
    "log_level": "info",
    "log_retention_days": 30,
    "create_unknown_companies": False,
    # Migration 0010 stores the installation's zone; this is only what a missing value means.
    "crm_timezone": DEFAULT_CRM_TIMEZONE,
}


def user_scope(user_id: int) -> str:
    return f"user:{user_id}"


def default_values() -> dict[str, Any]:
    return dict(_DEFAULTS)


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` laid over `base`, nested objects field by field; a None removes the field."""
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            nested = merge(merged.get(key) or {}, value)
            if nested:
                merged[key] = nested
            else:
                merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _scopes(user_id: int | None) -> list[str]:
    """Scopes in the order they override one another."""
    return [GLOBAL_SCOPE] if user_id is None else [GLOBAL_SCOPE, user_scope(user_id)]


def _resolve(stored: dict[str, dict[str, Any]], scopes: list[str]) -> EffectiveSettings:
    values = default_values()
    for scope in scopes:
        values = merge(values, stored.get(scope, {}))
    return EffectiveSettings.model_validate(values)


def effective_settings(db: Session, user_id: int | None) -> EffectiveSettings:
    """The settings synchronization uses for a user (None: the global ones), in one query."""
    scopes = _scopes(user_id)
    return _resolve(repository.stored_values(db, scopes), scopes)


def _apply_patch(db: Session, scope: str, patch: SettingsPatch) -> None:
    row = repository.get_scope_for_update(db, scope)
    if row is None:
        row = SettingsScope(scope=scope, values={})
        db.add(row)
    # A new dict rather than an in-place change, so the JSON column is seen as modified.
    row.values = merge(row.values, patch.model_dump(mode="json", exclude_unset=True))
    db.flush()


def update_global(db: Session, patch: SettingsPatch) -> EffectiveSettings:
    _apply_patch(db, GLOBAL_SCOPE, patch)
    if "crm_timezone" in patch.model_fields_set:
        forget_crm_zone()
    return effective_settings(db, None)


def read_user_settings(db: Session, user_id: int) -> UserSettingsRead:
    users_service.get_existing(db, user_id)
    scopes = _scopes(user_id)
    stored = repository.stored_values(db, scopes)
    return UserSettingsRead(
        user_id=user_id,
        overrides=SettingsPatch.model_validate(stored.get(user_scope(user_id), {})),
        effective=_resolve(stored, scopes),
    )


def update_user_settings(db: Session, user_id: int, patch: SettingsPatch) -> UserSettingsRead:
    users_service.get_existing(db, user_id)
    if patch.crm_timezone is not None:
        # One CRM server, one zone: a user's own zone is the `timezone` of the sync user.
        raise InvalidInput(
            "body.crm_timezone: the CRM server's zone is a global setting (PUT /settings); "
            "a user's own zone is the user's `timezone`"
        )
    _apply_patch(db, user_scope(user_id), patch)
    return read_user_settings(db, user_id)
