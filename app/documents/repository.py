"""Queries of the library: shared documents and the documents of a record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crm_records.schemas import RecordEntity
from app.models.crm import FLAG_SET, Library, live

RECORD_COLUMNS: dict[RecordEntity, str] = {
    RecordEntity.PERSON: "libr_personid",
    RecordEntity.COMPANY: "libr_companyid",
    RecordEntity.OPPORTUNITY: "libr_opportunityid",
    RecordEntity.CASE: "libr_caseid",
}


def _page(db: Session, condition: Any, after_id: int | None, limit: int) -> list[Library]:
    query = select(Library).where(condition, live(Library))
    if after_id is not None:
        query = query.where(Library.libr_libraryid > after_id)
    return list(db.scalars(query.order_by(Library.libr_libraryid).limit(limit)))


def list_shared(db: Session, after_id: int | None, limit: int) -> list[Library]:
    return _page(db, Library.libr_global == FLAG_SET, after_id, limit)


def list_for_record(
    db: Session, entity: RecordEntity, record_id: int, after_id: int | None, limit: int
) -> list[Library]:
    column = getattr(Library, RECORD_COLUMNS[entity])
    return _page(db, column == record_id, after_id, limit)


def live_documents(db: Session, ids: Iterable[int]) -> dict[int, Library]:
    rows = db.scalars(
        select(Library).where(Library.libr_libraryid.in_(sorted(set(ids))), live(Library))
    )
    return {row.libr_libraryid: row for row in rows}
