"""What a communication's record needs besides its own row: attendees, the exceptions of a
series, and the context of its CRM details block (company, person, opportunity, case, user)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crm.people import load_people
from app.models.crm import FLAG_SET, Case, CommLink, Communication, Company, Opportunity, User, live
from app.templates.schemas import (
    CaseDetails,
    CompanyDetails,
    DetailsContext,
    OpportunityDetails,
    PersonDetails,
    UserDetails,
)
from workers.sync.core.values import email, text


@dataclass(frozen=True)
class Related:
    """What one communication's record needs besides its own row."""

    attendees: list[str] = field(default_factory=list)
    exceptions: list[Communication] = field(default_factory=list)
    details: str | None = None


def load_related(
    db: Session,
    user_id: int,
    rows: Sequence[Communication],
    *,
    with_exceptions: bool,
    render_details: Callable[[DetailsContext], str] | None,
) -> dict[int, Related]:
    """What the rows' records need besides the rows, in a few queries for all of them."""
    ids = [row.comm_communicationid for row in rows]
    links: dict[int, list[CommLink]] = defaultdict(list)
    for link in db.scalars(
        select(CommLink).where(CommLink.cmli_comm_communicationid.in_(ids), live(CommLink))
    ):
        links[link.cmli_comm_communicationid or 0].append(link)
    exceptions: dict[int, list[Communication]] = defaultdict(list)
    if with_exceptions:
        for row in db.scalars(
            select(Communication).where(
                Communication.comm_recurrenceid.in_(ids),
                Communication.comm_exception == FLAG_SET,
                live(Communication),
            )
        ):
            exceptions[row.comm_recurrenceid or 0].append(row)
    all_links = [link for group in links.values() for link in group]
    user_ids = {link.cmli_comm_userid for link in all_links if link.cmli_comm_userid}
    users = {
        user.user_userid: user
        for user in db.scalars(select(User).where(User.user_userid.in_(user_ids)))
    }
    person_ids = {link.cmli_comm_personid for link in all_links if link.cmli_comm_personid}
    people = load_people(db, person_ids)
    contexts = _contexts(db, user_id, rows, links, users, people) if render_details else {}
    related: dict[int, Related] = {}
    for row in rows:
        attendees: list[str] = []
        for link in links[row.comm_communicationid]:
            address: str | None = None
            if link.cmli_comm_userid and link.cmli_comm_userid != user_id:
                address = email(
                    getattr(users.get(link.cmli_comm_userid), "user_emailaddress", None)
                )
            elif link.cmli_comm_personid:
                values = people.get(link.cmli_comm_personid, {})
                address = email(values.get("email.Business") or values.get("email.Private"))
            elif link.cmli_isexternalattendee == FLAG_SET:
                address = email(link.cmli_externalemail)
            if address:
                attendees.append(address)
        context = contexts.get(row.comm_communicationid)
        details = text(render_details(context)) if render_details and context else None
        related[row.comm_communicationid] = Related(
            attendees, exceptions[row.comm_communicationid], details
        )
    return related


def _contexts(
    db: Session,
    user_id: int,
    rows: Sequence[Communication],
    links: dict[int, list[CommLink]],
    users: dict[int, User],
    people: dict[int, dict[str, str | None]],
) -> dict[int, DetailsContext]:
    company_ids: dict[int, int | None] = {}
    for row in rows:
        found = [
            link.cmli_comm_companyid
            for link in links[row.comm_communicationid]
            if link.cmli_comm_companyid
        ]
        company_ids[row.comm_communicationid] = found[0] if found else None
    companies = {
        c.comp_companyid: c
        for c in db.scalars(
            select(Company).where(
                Company.comp_companyid.in_(set(filter(None, company_ids.values())))
            )
        )
    }
    opportunities = {
        o.oppo_opportunityid: o
        for o in db.scalars(
            select(Opportunity).where(
                Opportunity.oppo_opportunityid.in_(
                    {r.comm_opportunityid for r in rows if r.comm_opportunityid}
                )
            )
        )
    }
    cases = {
        c.case_caseid: c
        for c in db.scalars(
            select(Case).where(Case.case_caseid.in_({r.comm_caseid for r in rows if r.comm_caseid}))
        )
    }
    owner = users.get(user_id) or db.get(User, user_id)
    contexts: dict[int, DetailsContext] = {}
    for row in rows:
        person_links = [
            link.cmli_comm_personid
            for link in links[row.comm_communicationid]
            if link.cmli_comm_personid
        ]
        person = people.get(person_links[0] or 0) if person_links else None
        company = companies.get(company_ids[row.comm_communicationid] or 0)
        opportunity = opportunities.get(row.comm_opportunityid or 0)
        case = cases.get(row.comm_caseid or 0)
        contexts[row.comm_communicationid] = DetailsContext(
            company=CompanyDetails(name=company.comp_name, website=company.comp_website)
            if company
            else (CompanyDetails(name=person.get("company.comp_name")) if person else None),
            person=PersonDetails(
                salutation=person.get("pers_salutation"),
                first_name=person.get("pers_firstname"),
                last_name=person.get("pers_lastname"),
                email=person.get("email.Business") or person.get("email.Private"),
                phone=person.get("phone.Business") or person.get("phone.Mobile"),
            )
            if person
            else None,
            opportunity=OpportunityDetails(
                description=opportunity.oppo_description,
                stage=opportunity.oppo_stage,
                status=opportunity.oppo_status,
            )
            if opportunity
            else None,
            case=CaseDetails(description=case.case_description, status=case.case_status)
            if case
            else None,
            user=UserDetails(
                logon=owner.user_logon,
                name=" ".join(filter(None, [owner.user_firstname, owner.user_lastname])),
            )
            if owner
            else None,
        )
    return contexts
