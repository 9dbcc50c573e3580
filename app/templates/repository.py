from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.models.config import DetailsTemplate


def get_template(db: Session, entity: str) -> DetailsTemplate | None:
    return db.get(DetailsTemplate, entity)


def delete_template(db: Session, entity: str) -> None:
    db.execute(delete(DetailsTemplate).where(DetailsTemplate.entity == entity))
