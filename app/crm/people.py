"""Persons as a whole, read: the person row with its company, emails, phones and address.

Values are keyed by CRM paths (app.crm.paths); many persons load in a few queries. Writing is
app.crm.writer's, flags app.crm.flags's, look-ups by email or name app.crm.lookups's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crm.paths import (
    ADDRESS_COLUMNS,
    COMPANY_COLUMNS,
    EMAIL_TYPES,
    PERSON_COLUMNS,
    PHONE_TYPES,
    STREET_LINES,
    PersonValues,
    split_street,
)
from app.crm.phones import PhoneParts, compose_phone, split_phone
from app.kit.chunks import chunked
from app.models.crm import (
    ENTITY_PERSON,
    Address,
    Company,
    Email,
    EmailLink,
    Person,
    Phone,
    PhoneLink,
    live,
)
from app.models.sync import UnlinkedCompanyName


def join_street(address: Address) -> str | None:
    lines = [getattr(address, column) for column in STREET_LINES]
    present = [line for line in lines if line]
    return "\n".join(present) or None


def load_people(db: Session, person_ids: Iterable[int]) -> dict[int, PersonValues]:
    """Every path of each live person, in a handful of queries per 500 persons."""
    ids = sorted(set(person_ids))
    result: dict[int, PersonValues] = {}
    for chunk in chunked(ids):
        persons = list(
            db.scalars(select(Person).where(Person.pers_personid.in_(chunk), live(Person)))
        )
        company_ids = {p.pers_companyid for p in persons if p.pers_companyid}
        companies = {
            c.comp_companyid: c
            for c in db.scalars(
                select(Company).where(Company.comp_companyid.in_(company_ids), live(Company))
            )
        }
        address_ids = {p.pers_primaryaddressid for p in persons if p.pers_primaryaddressid}
        addresses = {
            a.addr_addressid: a
            for a in db.scalars(
                select(Address).where(Address.addr_addressid.in_(address_ids), live(Address))
            )
        }
        emails = _linked_values(db, chunk, _EMAILS)
        phones = _linked_values(db, chunk, _PHONES)
        unlinked = dict(
            db.execute(
                select(UnlinkedCompanyName.person_id, UnlinkedCompanyName.name).where(
                    UnlinkedCompanyName.person_id.in_(chunk)
                )
            ).all()
        )
        for person in persons:
            values: PersonValues = {c: getattr(person, c) for c in PERSON_COLUMNS}
            company = companies.get(person.pers_companyid or 0)
            for column in COMPANY_COLUMNS:
                values[f"company.{column}"] = getattr(company, column) if company else None
            if company is None:
                values["company.comp_name"] = unlinked.get(person.pers_personid)
            for kind in EMAIL_TYPES:
                values[f"email.{kind}"] = emails.get((person.pers_personid, kind))
            for kind in PHONE_TYPES:
                values[f"phone.{kind}"] = phones.get((person.pers_personid, kind))
            address = addresses.get(person.pers_primaryaddressid or 0)
            values["address.street"] = join_street(address) if address else None
            for column in ADDRESS_COLUMNS:
                values[f"address.{column}"] = getattr(address, column) if address else None
            result[person.pers_personid] = values
    return result


@dataclass(frozen=True)
class _LinkTable:
    """A link table from persons to rows of typed values (Sage's emails and phones)."""

    model: Any
    entity_id: Any
    record_id: Any
    kind: Any
    link_id: Any
    target: Any
    on: Any  # the join condition
    selected: Any  # what to read of the target: a column or the whole row
    read: Callable[[Any], str | None]


_EMAILS = _LinkTable(
    EmailLink,
    EmailLink.elink_entityid,
    EmailLink.elink_recordid,
    EmailLink.elink_type,
    EmailLink.elink_linkid,
    Email,
    Email.emai_emailid == EmailLink.elink_emailid,
    Email.emai_emailaddress,
    lambda address: address,
)
_PHONES = _LinkTable(
    PhoneLink,
    PhoneLink.plink_entityid,
    PhoneLink.plink_recordid,
    PhoneLink.plink_type,
    PhoneLink.plink_linkid,
    Phone,
    Phone.phon_phoneid == PhoneLink.plink_phoneid,
    Phone,
    lambda phone: compose_phone(
        PhoneParts(phone.phon_countrycode, phone.phon_areacode, phone.phon_number)
    ),
)


def _linked_values(
    db: Session, person_ids: Sequence[int], table: _LinkTable
) -> dict[tuple[int, str], str]:
    """Each person's first live value of each type (e.g. its Business email)."""
    rows = db.execute(
        select(table.record_id, table.kind, table.selected)
        .join(table.target, table.on)
        .where(
            table.entity_id == ENTITY_PERSON,
            table.record_id.in_(person_ids),
            live(table.model),
            live(table.target),
        )
        .order_by(table.link_id)
    )
    found: dict[tuple[int, str], str] = {}
    for person_id, type_name, selected in rows:
        value = table.read(selected)
        if person_id is not None and type_name and value:
            found.setdefault((person_id, type_name), value)
    return found


def _stored_parts(path: str, value: str) -> Iterable[tuple[str | None, Any]]:
    """The pieces of a path's value and the column each piece is stored in."""
    head, _, tail = path.partition(".")
    if not tail:
        return [(value, Person.__table__.c[path])]
    if head == "company":
        return [(value, Company.__table__.c[tail])]
    if head == "email":
        return [(value, Email.__table__.c.emai_emailaddress)]
    if head == "phone":
        columns = ("phon_countrycode", "phon_areacode", "phon_number")
        return zip(split_phone(value), (Phone.__table__.c[c] for c in columns), strict=True)
    if tail == "street":
        return zip(split_street(value), (Address.__table__.c[c] for c in STREET_LINES), strict=True)
    return [(value, Address.__table__.c[tail])]


def oversized_paths(values: Mapping[str, str | None]) -> dict[str, int]:
    """The paths whose value does not fit its CRM column, with that column's length."""
    oversized: dict[str, int] = {}
    for path, value in values.items():
        if not value:
            continue
        for piece, column in _stored_parts(path, value):
            limit: int | None = getattr(column.type, "length", None)
            if piece and limit is not None and len(piece) > limit:
                oversized[path] = limit
                break
    return oversized
