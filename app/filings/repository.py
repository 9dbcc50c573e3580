"""Queries of filing: filed emails and their links, records to file to, suggestion matches."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from app.crm_records.schemas import RecordEntity
from app.models.crm import (
    ENTITY_COMPANY,
    Case,
    CommLink,
    Communication,
    Company,
    Email,
    EmailLink,
    Library,
    Opportunity,
    Person,
    User,
    live,
)
from app.models.filing import FiledEmailContent
from app.models.sync import SyncUser

EMAIL_TYPE = "Email"
ATTACHMENT_TYPE = "EmailAttachment"

_RECORD_MODELS: dict[RecordEntity, Any] = {
    RecordEntity.PERSON: Person,
    RecordEntity.COMPANY: Company,
    RecordEntity.OPPORTUNITY: Opportunity,
    RecordEntity.CASE: Case,
}
_ID_COLUMNS: dict[RecordEntity, Any] = {
    RecordEntity.PERSON: Person.pers_personid,
    RecordEntity.COMPANY: Company.comp_companyid,
    RecordEntity.OPPORTUNITY: Opportunity.oppo_opportunityid,
    RecordEntity.CASE: Case.case_caseid,
}
# Statuses after which an opportunity or case no longer takes new correspondence.
_CLOSED_STATUSES = ("won", "lost", "closed", "abandoned", "cancelled", "canceled", "archived")


def live_record_ids(db: Session, entity: RecordEntity, ids: Iterable[int]) -> set[int]:
    column = _ID_COLUMNS[entity]
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    model = _RECORD_MODELS[entity]
    return set(db.scalars(select(column).where(column.in_(wanted), live(model))))


def lock_identity(db: Session, identity: str) -> None:
    """Serializes filings of one email across requests until the transaction ends, so two
    concurrent filings cannot both create it. PostgreSQL only: SQLite serializes writers."""
    bind = db.get_bind(mapper=Communication.__mapper__)
    if bind.dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big", signed=True)
    db.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": key},
        bind_arguments={"mapper": Communication.__mapper__},
    )


def filed_emails(db: Session, identity: str) -> list[Communication]:
    """The live email communications filed under this Message-ID, oldest first."""
    return list(
        db.scalars(
            select(Communication)
            .where(
                Communication.comm_messageid == identity,
                Communication.comm_type == EMAIL_TYPE,
                live(Communication),
            )
            .order_by(Communication.comm_communicationid)
        )
    )


def recorded_content(db: Session, communication_ids: list[int]) -> dict[int, FiledEmailContent]:
    rows = db.scalars(
        select(FiledEmailContent).where(FiledEmailContent.communication_id.in_(communication_ids))
    )
    return {row.communication_id: row for row in rows}


def attachment_sha256s(db: Session, communication_id: int) -> list[str]:
    return [
        sha
        for sha in db.scalars(
            select(Library.libr_sha256).where(
                Library.libr_communicationid == communication_id,
                Library.libr_type == ATTACHMENT_TYPE,
                live(Library),
            )
        )
        if sha
    ]


def links_of(db: Session, communication_id: int) -> list[CommLink]:
    return list(
        db.scalars(
            select(CommLink).where(
                CommLink.cmli_comm_communicationid == communication_id, live(CommLink)
            )
        )
    )


def user_addresses(db: Session, user_id: int) -> set[str]:
    """The addresses a user sends from: the CRM user's email and the synchronized mailbox."""
    found = {
        db.scalar(select(User.user_emailaddress).where(User.user_userid == user_id)),
        db.scalar(select(SyncUser.mailbox).where(SyncUser.user_id == user_id)),
    }
    return {address.casefold() for address in found if address}


def person_companies(db: Session, person_ids: Iterable[int]) -> dict[int, int]:
    rows = db.execute(
        select(Person.pers_personid, Person.pers_companyid)
        .join(Company, Company.comp_companyid == Person.pers_companyid)
        .where(Person.pers_personid.in_(sorted(set(person_ids))), live(Company))
    )
    return {person_id: company_id for person_id, company_id in rows if company_id is not None}


def companies_by_domain(db: Session, domains: Iterable[str]) -> dict[str, set[int]]:
    """Live companies whose own email address is at the domain, or whose website is it."""
    wanted = sorted({d.casefold() for d in domains})
    found: dict[str, set[int]] = defaultdict(set)
    if not wanted:
        return found
    address = func.lower(Email.emai_emailaddress)
    at_any_domain = or_(*(address.like(f"%@{_escaped(d)}", escape="\\") for d in wanted))
    for matched, company_id in db.execute(
        select(address, EmailLink.elink_recordid)
        .join(EmailLink, EmailLink.elink_emailid == Email.emai_emailid)
        .join(Company, Company.comp_companyid == EmailLink.elink_recordid)
        .where(
            EmailLink.elink_entityid == ENTITY_COMPANY,
            at_any_domain,
            live(Email),
            live(EmailLink),
            live(Company),
        )
    ):
        found[matched.rpartition("@")[2]].add(company_id)
    website_matches = or_(
        *(func.lower(Company.comp_website).contains(d, autoescape=True) for d in wanted)
    )
    for company_id, website in db.execute(
        select(Company.comp_companyid, Company.comp_website).where(website_matches, live(Company))
    ):
        host = website_host(website)
        if host in wanted:
            found[host].add(company_id)
    return found


def _escaped(pattern: str) -> str:
    return pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def website_host(website: str | None) -> str:
    """`https://www.acme.example/about` → `acme.example`."""
    value = (website or "").strip().casefold()
    value = value.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return value.removeprefix("www.")


def open_opportunities(
    db: Session, person_ids: set[int], company_ids: set[int]
) -> list[Opportunity]:
    return list(
        db.scalars(
            select(Opportunity)
            .where(
                live(Opportunity),
                or_(
                    Opportunity.oppo_primarypersonid.in_(sorted(person_ids)),
                    Opportunity.oppo_primarycompanyid.in_(sorted(company_ids)),
                ),
                or_(
                    Opportunity.oppo_status.is_(None),
                    func.lower(Opportunity.oppo_status).not_in(_CLOSED_STATUSES),
                ),
            )
            .order_by(Opportunity.oppo_opportunityid)
        )
    )


def open_cases(db: Session, person_ids: set[int], company_ids: set[int]) -> list[Case]:
    return list(
        db.scalars(
            select(Case)
            .where(
                live(Case),
                or_(
                    Case.case_primarypersonid.in_(sorted(person_ids)),
                    Case.case_primarycompanyid.in_(sorted(company_ids)),
                ),
                or_(
                    Case.case_status.is_(None),
                    func.lower(Case.case_status).not_in(_CLOSED_STATUSES),
                ),
            )
            .order_by(Case.case_caseid)
        )
    )


def person_names(db: Session, person_ids: Iterable[int]) -> dict[int, str]:
    rows = db.execute(
        select(Person.pers_personid, Person.pers_firstname, Person.pers_lastname).where(
            Person.pers_personid.in_(sorted(set(person_ids)))
        )
    )
    return {
        person_id: " ".join(part for part in (first, last) if part) or "(no name)"
        for person_id, first, last in rows
    }


def company_names(db: Session, company_ids: Iterable[int]) -> dict[int, str]:
    rows = db.execute(
        select(Company.comp_companyid, Company.comp_name).where(
            Company.comp_companyid.in_(sorted(set(company_ids)))
        )
    )
    return {company_id: name or "(no name)" for company_id, name in rows}
