from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.models.config import MappingDocument


def get_document(db: Session, name: str) -> MappingDocument | None:
    return db.get(MappingDocument, name)


def delete_document(db: Session, name: str) -> None:
    db.execute(delete(MappingDocument).where(MappingDocument.name == name))
