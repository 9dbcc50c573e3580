"""Finding existing persons and companies: by email, by name, in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.kit.chunks import chunked
from app.models.crm import ENTITY_PERSON, Company, Email, EmailLink, Person, live


def find_company_by_name(db: Session, name: str) -> Company | None:
    """The live company of exactly that name (trimmed); the oldest when there are several."""
    return db.scalars(
        select(Company)
        .where(Company.comp_name == name.strip(), live(Company))
        .order_by(Company.comp_companyid)
        .limit(1)
    ).first()


def persons_with_email(db: Session, addresses: Iterable[str]) -> dict[str, list[int]]:
    """Live persons by lower-cased email address (for duplicate checks and matching)."""
    wanted = sorted({a.strip().lower() for a in addresses if a and a.strip()})
    found: dict[str, list[int]] = defaultdict(list)
    for chunk in chunked(wanted):
        rows = db.execute(
            select(func.lower(Email.emai_emailaddress), EmailLink.elink_recordid)
            .join(EmailLink, EmailLink.elink_emailid == Email.emai_emailid)
            .join(Person, Person.pers_personid == EmailLink.elink_recordid)
            .where(
                func.lower(Email.emai_emailaddress).in_(chunk),
                EmailLink.elink_entityid == ENTITY_PERSON,
                live(Email),
                live(EmailLink),
                live(Person),
            )
        )
        for address, person_id in rows:
            if person_id not in found[address]:
                found[address].append(person_id)
    return dict(found)


def companies_by_name(db: Session, names: Iterable[str]) -> dict[str, int]:
    """Live companies by exact (trimmed) name, the oldest per name: find_company_by_name in bulk."""
    wanted = sorted({n.strip() for n in names if n and n.strip()})
    found: dict[str, int] = {}
    for chunk in chunked(wanted):
        rows = db.execute(
            select(Company.comp_name, func.min(Company.comp_companyid))
            .where(Company.comp_name.in_(chunk), live(Company))
            .group_by(Company.comp_name)
        )
        found.update({name: company_id for name, company_id in rows if name is not None})
    return found


# Lower-cased first and last name ('' when missing) and the company id (None: no company).
NameKey = tuple[str, str, int | None]


def name_key(first: str | None, last: str | None, company_id: int | None) -> NameKey:
    return ((first or "").strip().casefold(), (last or "").strip().casefold(), company_id)


def persons_by_name(db: Session, keys: Iterable[NameKey]) -> dict[NameKey, int]:
    """Live persons with that first name, last name and company, the oldest per key."""
    wanted = set(keys)
    last_names = sorted({last for _, last, _ in wanted})
    found: dict[NameKey, int] = {}
    for chunk in chunked(last_names):
        last_name = func.coalesce(Person.pers_lastname, "")
        # SQLite's lower() folds ASCII only; the exact spelling catches the rest there, and the
        # comparison below decides.
        rows = db.execute(
            select(
                Person.pers_personid,
                Person.pers_firstname,
                Person.pers_lastname,
                Person.pers_companyid,
            )
            .where(or_(func.lower(last_name).in_(chunk), last_name.in_(chunk)), live(Person))
            .order_by(Person.pers_personid)
        )
        for person_id, first, last, company_id in rows:
            key = name_key(first, last, company_id)
            if key in wanted:
                found.setdefault(key, person_id)
    return found
