"""The records an email most likely belongs to, each with the reasons it matched.

Persons match by the address of the sender or a recipient; companies as the company of a
matched person, or by a correspondent's domain (a company email address at that domain, or its
website). Open opportunities and cases follow from the matched persons and companies. The
user's own addresses are left out, as are the domains of free mail providers and the user's own
domain, where a domain says nothing about the company.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.config import Settings
from app.crm.lookups import persons_with_email
from app.crm_records.schemas import RecordEntity
from app.crm_records.service import acting_crm_user
from app.filings import repository, service
from app.filings.mailbox import MailboxMessages
from app.filings.mime import ParsedEmail
from app.filings.schemas import EmailSuggestions, SuggestedRecord, SuggestionsFromMailbox
from app.filings.service import IncomingEmail, UploadedFile

_FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "icloud.com", "me.com", "aol.com", "gmx.de", "gmx.net", "web.de",
        "proton.me", "protonmail.com", "mail.com", "yandex.ru", "qq.com",
    }
)  # fmt: skip
_ENTITY_ORDER = list(RecordEntity)


class _Reasons:
    def __init__(self) -> None:
        self.by_record: dict[tuple[RecordEntity, int], list[str]] = defaultdict(list)

    def add(self, entity: RecordEntity, record_id: int, reason: str) -> None:
        reasons = self.by_record[(entity, record_id)]
        if reason not in reasons:
            reasons.append(reason)

    def ids(self, entity: RecordEntity) -> set[int]:
        return {record_id for kind, record_id in self.by_record if kind is entity}


def _correspondents(parsed: ParsedEmail, own: set[str]) -> list[tuple[str, str]]:
    """(address, role) of everyone on the email but the user."""
    found = [(parsed.sender.email, "sender")] if parsed.sender else []
    found += [(a.email, "recipient") for a in (*parsed.to, *parsed.cc, *parsed.bcc)]
    return [(address.casefold(), role) for address, role in found if address.casefold() not in own]


def suggest(db: Session, user_id: int, emails: Iterable[IncomingEmail]) -> list[EmailSuggestions]:
    own = repository.user_addresses(db, user_id)
    own_domains = {address.rpartition("@")[2] for address in own}
    return [_suggest_one(db, email, own, own_domains) for email in emails]


def _suggest_one(
    db: Session, email: IncomingEmail, own: set[str], own_domains: set[str]
) -> EmailSuggestions:
    reasons = _Reasons()
    correspondents = _correspondents(email.parsed, own)
    persons = persons_with_email(db, [address for address, _ in correspondents])
    for address, role in correspondents:
        for person_id in persons.get(address, []):
            reasons.add(RecordEntity.PERSON, person_id, f"{role} {address}")
    person_ids = reasons.ids(RecordEntity.PERSON)
    names = repository.person_names(db, person_ids)
    for person_id, company_id in repository.person_companies(db, person_ids).items():
        reasons.add(RecordEntity.COMPANY, company_id, f"company of {names[person_id]}")
    domains = {address.rpartition("@")[2] for address, _ in correspondents}
    domains -= _FREE_MAIL_DOMAINS | own_domains
    for domain, company_ids in repository.companies_by_domain(db, domains).items():
        for company_id in company_ids:
            reasons.add(RecordEntity.COMPANY, company_id, f"domain {domain}")
    company_ids = reasons.ids(RecordEntity.COMPANY)
    company_names = repository.company_names(db, company_ids)
    opportunities = repository.open_opportunities(db, person_ids, company_ids)
    for opportunity in opportunities:
        reasons.add(
            RecordEntity.OPPORTUNITY,
            opportunity.oppo_opportunityid,
            _related_reason(
                "opportunity",
                opportunity.oppo_primarypersonid,
                opportunity.oppo_primarycompanyid,
                names,
                company_names,
            ),
        )
    cases = repository.open_cases(db, person_ids, company_ids)
    for case in cases:
        reasons.add(
            RecordEntity.CASE,
            case.case_caseid,
            _related_reason(
                "case", case.case_primarypersonid, case.case_primarycompanyid, names, company_names
            ),
        )
    labels = {
        RecordEntity.PERSON: names,
        RecordEntity.COMPANY: company_names,
        RecordEntity.OPPORTUNITY: {
            o.oppo_opportunityid: o.oppo_description or "(no description)" for o in opportunities
        },
        RecordEntity.CASE: {c.case_caseid: c.case_description or "(no description)" for c in cases},
    }
    records = [
        SuggestedRecord(entity=entity, id=record_id, label=labels[entity][record_id], reasons=why)
        for (entity, record_id), why in reasons.by_record.items()
    ]
    records.sort(key=lambda r: (_ENTITY_ORDER.index(r.entity), -len(r.reasons), r.id))
    return EmailSuggestions(
        source=email.source,
        message_id=email.parsed.message_id,
        subject=email.parsed.subject,
        records=records,
    )


def _related_reason(
    kind: str,
    person_id: int | None,
    company_id: int | None,
    person_names: dict[int, str],
    company_names: dict[int, str],
) -> str:
    if person_id is not None and person_id in person_names:
        return f"open {kind} of {person_names[person_id]}"
    return f"open {kind} of {company_names.get(company_id or 0, 'a matched company')}"


def suggest_from_mailbox(
    db: Session,
    principal: Principal,
    body: SuggestionsFromMailbox,
    mailbox: MailboxMessages,
    settings: Settings,
) -> list[EmailSuggestions]:
    user_id = acting_crm_user(db, principal, body.user_id)
    connection = service.mailbox_connection(db, user_id)
    return suggest(
        db, user_id, service.mailbox_emails(mailbox, connection, body.item_ids, settings)
    )


def suggest_for_uploads(
    db: Session,
    principal: Principal,
    files: Sequence[UploadedFile],
    user_id: int | None,
    settings: Settings,
) -> list[EmailSuggestions]:
    acting = acting_crm_user(db, principal, user_id)
    return suggest(db, acting, service.uploaded_emails(db, acting, files, settings))
