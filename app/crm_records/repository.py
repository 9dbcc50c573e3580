"""Searches of live CRM records by the text a user types."""

from __future__ import annotations

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session, aliased

from app.models.crm import ENTITY_PERSON, Case, Company, Email, EmailLink, Opportunity, Person, live


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_persons(db: Session, text: str, limit: int) -> list[Row[Person, str | None]]:
    """Persons by first name, last name, "first last", or an email address of theirs."""
    pattern = _contains(text)
    full_name = Person.pers_firstname + " " + Person.pers_lastname
    email_matches = (
        select(EmailLink.elink_recordid)
        .join(Email, Email.emai_emailid == EmailLink.elink_emailid)
        .where(
            EmailLink.elink_entityid == ENTITY_PERSON,
            Email.emai_emailaddress.ilike(pattern, escape="\\"),
            live(EmailLink),
            live(Email),
        )
    )
    company = aliased(Company)
    return list(
        db.execute(
            select(Person, company.comp_name)
            .outerjoin(company, (company.comp_companyid == Person.pers_companyid) & live(company))
            .where(
                live(Person),
                or_(
                    Person.pers_firstname.ilike(pattern, escape="\\"),
                    Person.pers_lastname.ilike(pattern, escape="\\"),
                    full_name.ilike(pattern, escape="\\"),
                    Person.pers_personid.in_(email_matches),
                ),
            )
            .order_by(Person.pers_lastname, Person.pers_firstname, Person.pers_personid)
            .limit(limit)
        )
    )


def business_emails(db: Session, person_ids: list[int]) -> dict[int, str]:
    """The first live email of each person, Business before Private."""
    rows = db.execute(
        select(EmailLink.elink_recordid, Email.emai_emailaddress)
        .join(Email, Email.emai_emailid == EmailLink.elink_emailid)
        .where(
            EmailLink.elink_entityid == ENTITY_PERSON,
            EmailLink.elink_recordid.in_(person_ids),
            live(EmailLink),
            live(Email),
        )
        .order_by(EmailLink.elink_type, EmailLink.elink_linkid)
    )
    found: dict[int, str] = {}
    for person_id, address in rows:
        if person_id is not None and address:
            found.setdefault(person_id, address)
    return found


def search_companies(db: Session, text: str, limit: int) -> list[Company]:
    return list(
        db.scalars(
            select(Company)
            .where(live(Company), Company.comp_name.ilike(_contains(text), escape="\\"))
            .order_by(Company.comp_name, Company.comp_companyid)
            .limit(limit)
        )
    )


def search_opportunities(db: Session, text: str, limit: int) -> list[Row[Opportunity, str | None]]:
    company = aliased(Company)
    return list(
        db.execute(
            select(Opportunity, company.comp_name)
            .outerjoin(
                company,
                (company.comp_companyid == Opportunity.oppo_primarycompanyid) & live(company),
            )
            .where(
                live(Opportunity),
                Opportunity.oppo_description.ilike(_contains(text), escape="\\"),
            )
            .order_by(Opportunity.oppo_description, Opportunity.oppo_opportunityid)
            .limit(limit)
        )
    )


def search_cases(db: Session, text: str, limit: int) -> list[Row[Case, str | None]]:
    company = aliased(Company)
    return list(
        db.execute(
            select(Case, company.comp_name)
            .outerjoin(
                company, (company.comp_companyid == Case.case_primarycompanyid) & live(company)
            )
            .where(live(Case), Case.case_description.ilike(_contains(text), escape="\\"))
            .order_by(Case.case_description, Case.case_caseid)
            .limit(limit)
        )
    )
