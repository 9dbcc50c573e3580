from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.config import Exclusion


def get_exclusion(db: Session, exclusion_id: int) -> Exclusion | None:
    return db.get(Exclusion, exclusion_id)


def list_exclusions(
    db: Session, *, entity: str | None, after_id: int | None, limit: int | None
) -> list[Exclusion]:
    query = select(Exclusion).order_by(Exclusion.id).limit(limit)
    if entity is not None:
        query = query.where(Exclusion.entity == entity)
    if after_id is not None:
        query = query.where(Exclusion.id > after_id)
    return list(db.scalars(query))
