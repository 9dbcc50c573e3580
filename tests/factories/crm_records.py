"""Small factories for the CRM records the add-in searches: companies, persons, deals, cases."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.crm.writer import PersonWriter
from app.models.crm import Case, Company, Opportunity, Person


def company(db: Session, name: str, *, deleted: bool = False, website: str | None = None) -> int:
    row = Company(comp_name=name, comp_website=website, deleted=1 if deleted else None)
    db.add(row)
    db.flush()
    return row.comp_companyid


def person(
    db: Session,
    first: str,
    last: str,
    *,
    email: str | None = None,
    company_name: str | None = None,
    deleted: bool = False,
) -> int:
    created: Person = PersonWriter(db, None, create_companies=False).create(
        {
            "pers_firstname": first,
            "pers_lastname": last,
            "email.Business": email,
            "company.comp_name": company_name,
        }
    )
    if deleted:
        created.deleted = 1
    db.flush()
    return created.pers_personid


def opportunity(db: Session, description: str, *, company_id: int | None = None) -> int:
    row = Opportunity(
        oppo_description=description, oppo_primarycompanyid=company_id, oppo_stage="Lead"
    )
    db.add(row)
    db.flush()
    return row.oppo_opportunityid


def case(db: Session, description: str, *, deleted: int | None = None) -> int:
    row = Case(case_description=description, case_status="Open", deleted=deleted)
    db.add(row)
    db.flush()
    return row.case_caseid
