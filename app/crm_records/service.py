"""CRM records for the Outlook add-in: searching them, and adding a sender as a person."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, zip_longest

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.crm.flags import flag_person
from app.crm.lookups import find_company_by_name, persons_with_email
from app.crm.writer import PersonWriter
from app.crm_records import repository
from app.crm_records.schemas import PersonCreate, PersonCreated, RecordEntity, RecordRead
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.models.crm import Person
from app.users import repository as users_repository

SEARCH_LIMIT = 25


def acting_crm_user(db: Session, principal: Principal, user_id: int | None) -> int:
    """The live CRM user a request acts for: the token's own, or the one an admin key names."""
    if user_id is None:
        if principal.user_id is None:
            raise InvalidInput("body.user_id: an admin key acts for a user; name one")
        acting = principal.user_id
    else:
        acting = principal.resolve_user(str(user_id))
    crm_user = users_repository.get_crm_user(db, acting)
    if crm_user is None or not crm_user.is_live:
        raise NotFound(f"no CRM user {acting}")
    return acting


def _joined(*parts: str | None, separator: str = " · ") -> str | None:
    return separator.join(part for part in parts if part) or None


def _name(person: Person) -> str | None:
    return _joined(person.pers_firstname, person.pers_lastname, separator=" ")


def _persons(db: Session, text: str) -> list[RecordRead]:
    rows = repository.search_persons(db, text, SEARCH_LIMIT)
    emails = repository.business_emails(db, [person.pers_personid for person, _ in rows])
    return [
        RecordRead(
            entity=RecordEntity.PERSON,
            id=person.pers_personid,
            label=_name(person) or "(no name)",
            detail=_joined(emails.get(person.pers_personid), company_name),
        )
        for person, company_name in rows
    ]


def _companies(db: Session, text: str) -> list[RecordRead]:
    return [
        RecordRead(
            entity=RecordEntity.COMPANY,
            id=company.comp_companyid,
            label=company.comp_name or "(no name)",
            detail=company.comp_website,
        )
        for company in repository.search_companies(db, text, SEARCH_LIMIT)
    ]


def _opportunities(db: Session, text: str) -> list[RecordRead]:
    return [
        RecordRead(
            entity=RecordEntity.OPPORTUNITY,
            id=opportunity.oppo_opportunityid,
            label=opportunity.oppo_description or "(no description)",
            detail=_joined(company_name, opportunity.oppo_stage),
        )
        for opportunity, company_name in repository.search_opportunities(db, text, SEARCH_LIMIT)
    ]


def _cases(db: Session, text: str) -> list[RecordRead]:
    return [
        RecordRead(
            entity=RecordEntity.CASE,
            id=case.case_caseid,
            label=case.case_description or "(no description)",
            detail=_joined(company_name, case.case_status),
        )
        for case, company_name in repository.search_cases(db, text, SEARCH_LIMIT)
    ]


_SEARCHES = {
    RecordEntity.PERSON: _persons,
    RecordEntity.COMPANY: _companies,
    RecordEntity.OPPORTUNITY: _opportunities,
    RecordEntity.CASE: _cases,
}


def _interleaved(lists: Sequence[list[RecordRead]]) -> Iterable[RecordRead]:
    """Takes from each entity in turn, so that one entity's many matches do not hide the rest."""
    return (record for record in chain.from_iterable(zip_longest(*lists)) if record is not None)


def search(db: Session, text: str, entity: RecordEntity | None) -> list[RecordRead]:
    entities = [entity] if entity is not None else list(RecordEntity)
    found = [_SEARCHES[e](db, text.strip()) for e in entities]
    return list(_interleaved(found))[:SEARCH_LIMIT]


def add_person(db: Session, principal: Principal, body: PersonCreate) -> PersonCreated:
    """Creates a person with a Business email, linked to a company by exact name, and flags it
    for the acting user's Outlook (usercontacts)."""
    acting = acting_crm_user(db, principal, body.user_id)
    holders = persons_with_email(db, [body.email]).get(body.email, [])
    if holders:
        raise Conflict(f"{body.email} is already the email of CRM person {holders[0]}")
    company = None
    if body.company_name and body.company_name.strip():
        company = find_company_by_name(db, body.company_name)
        if company is None:
            raise InvalidInput(
                f"body.company_name: no CRM company is named exactly {body.company_name!r}"
            )
    person = PersonWriter(db, acting, create_companies=False).create(
        {
            "pers_firstname": body.first_name,
            "pers_lastname": body.last_name,
            "pers_title": body.title,
            "email.Business": body.email,
            "company.comp_name": company.comp_name if company else None,
        }
    )
    flag_person(db, acting, person.pers_personid)
    return PersonCreated(
        entity=RecordEntity.PERSON,
        id=person.pers_personid,
        label=_name(person) or body.last_name,
        detail=_joined(body.email, company.comp_name if company else None),
        company_id=company.comp_companyid if company else None,
        flagged_for_user_id=acting,
    )
