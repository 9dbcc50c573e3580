"""Queries of the library: shared documents, the documents of a record, and who may see one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.crm_records.schemas import RecordEntity
from app.models.crm import (
    FLAG_SET,
    Case,
    CommLink,
    Company,
    Library,
    Opportunity,
    Person,
    live,
)

RECORD_COLUMNS: dict[RecordEntity, str] = {
    RecordEntity.PERSON: "libr_personid",
    RecordEntity.COMPANY: "libr_companyid",
    RecordEntity.OPPORTUNITY: "libr_opportunityid",
    RecordEntity.CASE: "libr_caseid",
}


def visible_to(user_id: int | None) -> ColumnElement[bool]:
    """The documents a user may read or attach: shared ones (libr_global); those they
    uploaded or filed; those of a communication linked to them (comm_link); those filed to a
    record they are the primary user of (company, person) or assigned to (opportunity, case).
    `None` stands for an admin key, which sees every document."""
    if user_id is None:
        return Library.libr_libraryid.is_not(None)
    linked = select(CommLink.cmli_comm_communicationid).where(
        CommLink.cmli_comm_userid == user_id, live(CommLink)
    )
    return or_(
        Library.libr_global == FLAG_SET,
        Library.created_by == user_id,
        Library.libr_communicationid.in_(linked),
        Library.libr_companyid.in_(
            select(Company.comp_companyid).where(Company.comp_primaryuserid == user_id)
        ),
        Library.libr_personid.in_(
            select(Person.pers_personid).where(Person.pers_primaryuserid == user_id)
        ),
        Library.libr_opportunityid.in_(
            select(Opportunity.oppo_opportunityid).where(Opportunity.oppo_assigneduserid == user_id)
        ),
        Library.libr_caseid.in_(
            select(Case.case_caseid).where(Case.case_assigneduserid == user_id)
        ),
    )


def _page(db: Session, condition: Any, after_id: int | None, limit: int) -> list[Library]:
    query = select(Library).where(condition, live(Library))
    if after_id is not None:
        query = query.where(Library.libr_libraryid > after_id)
    return list(db.scalars(query.order_by(Library.libr_libraryid).limit(limit)))


def list_shared(db: Session, after_id: int | None, limit: int) -> list[Library]:
    return _page(db, Library.libr_global == FLAG_SET, after_id, limit)


def list_for_record(
    db: Session,
    entity: RecordEntity,
    record_id: int,
    reader: int | None,
    after_id: int | None,
    limit: int,
) -> list[Library]:
    column = getattr(Library, RECORD_COLUMNS[entity])
    return _page(db, (column == record_id) & visible_to(reader), after_id, limit)


def live_documents(db: Session, ids: Iterable[int], reader: int | None) -> dict[int, Library]:
    """The live documents among `ids` that `reader` may see (None: an admin key)."""
    rows = db.scalars(
        select(Library).where(
            Library.libr_libraryid.in_(sorted(set(ids))), live(Library), visible_to(reader)
        )
    )
    return {row.libr_libraryid: row for row in rows}
