from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.sync import SettingsScope


def stored_values(db: Session, scopes: list[str]) -> dict[str, dict[str, Any]]:
    """The stored values of each named scope that has a row, in one query."""
    rows = db.execute(
        select(SettingsScope.scope, SettingsScope.values).where(SettingsScope.scope.in_(scopes))
    )
    return dict(rows.all())


def get_scope_for_update(db: Session, scope: str) -> SettingsScope | None:
    return db.scalars(
        select(SettingsScope).where(SettingsScope.scope == scope).with_for_update()
    ).one_or_none()
