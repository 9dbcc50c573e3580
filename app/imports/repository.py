from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models.imports import ContactImport, ContactImportRow, ImportStatus


def get_import(db: Session, import_id: int) -> ContactImport | None:
    return db.get(ContactImport, import_id)


def list_imports(
    db: Session,
    *,
    status: ImportStatus | None,
    user_id: int | None,
    after_id: int | None,
    limit: int,
) -> list[ContactImport]:
    # Newest first, as runs are: the cursor walks towards older imports.
    query = select(ContactImport).order_by(ContactImport.id.desc()).limit(limit)
    if status is not None:
        query = query.where(ContactImport.status == status)
    if user_id is not None:
        query = query.where(ContactImport.user_id == user_id)
    if after_id is not None:
        query = query.where(ContactImport.id < after_id)
    return list(db.scalars(query))


def get_import_for_update(db: Session, import_id: int) -> ContactImport | None:
    return db.scalars(
        select(ContactImport).where(ContactImport.id == import_id).with_for_update()
    ).one_or_none()


def add_report_rows(db: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        db.execute(insert(ContactImportRow), list(rows))


def report_rows(
    db: Session, import_id: int, *, after_row: int, limit: int
) -> list[ContactImportRow]:
    return list(
        db.scalars(
            select(ContactImportRow)
            .where(ContactImportRow.import_id == import_id, ContactImportRow.row_number > after_row)
            .order_by(ContactImportRow.row_number)
            .limit(limit)
        )
    )
