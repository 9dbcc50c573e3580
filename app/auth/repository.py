from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.auth import ApiKey, KeyKind


def find_live_key(db: Session, secret_sha256: str) -> ApiKey | None:
    return db.scalars(
        select(ApiKey).where(ApiKey.secret_sha256 == secret_sha256, ApiKey.revoked_at.is_(None))
    ).one_or_none()


def get_live_key(db: Session, kind: KeyKind, key_id: int) -> ApiKey | None:
    return db.scalars(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.kind == kind, ApiKey.revoked_at.is_(None))
    ).one_or_none()


def list_live_keys(
    db: Session, kind: KeyKind, *, user_id: int | None, after_id: int | None, limit: int | None
) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.kind == kind, ApiKey.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    if after_id is not None:
        query = query.where(ApiKey.id > after_id)
    return list(db.scalars(query.order_by(ApiKey.id).limit(limit)))
