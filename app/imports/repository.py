from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models.imports import ContactImport, ContactImportRow


def get_import(db: Session, import_id: int) -> ContactImport | None:
    return db.get(ContactImport, import_id)


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
