from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.auth import ApiKey


def find_live_key(db: Session, secret_sha256: str) -> ApiKey | None:
    return db.scalars(
        select(ApiKey).where(ApiKey.secret_sha256 == secret_sha256, ApiKey.revoked_at.is_(None))
    ).one_or_none()


def list_keys(db: Session) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).order_by(ApiKey.id)))
