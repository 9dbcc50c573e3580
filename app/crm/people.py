"""Persons as a whole: the person row with its company, emails, phones and primary address.

Values are keyed by the CRM paths that contact mappings use: `pers_<column>`,
`company.comp_name`, `email.<type>`, `phone.<type>`, `address.street` (address1..4 joined by
new lines) and `address.addr_<column>`. Readers load many persons in a few queries; writers keep
Sage CRM's conventions (audit columns, soft deletes, link tables, shared address rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from app.crm.phones import PhoneParts, compose_phone, split_phone
from app.kit.clock import crm_now
from app.models.crm import (
    ENTITY_PERSON,
    Address,
    AddressLink,
    Company,
    Email,
    EmailLink,
    Person,
    Phone,
    PhoneLink,
    UserContact,
)
from app.models.sync import UnlinkedCompanyName

PersonValues = dict[str, str | None]

EMAIL_TYPES = ("Business", "Private")
PHONE_TYPES = ("Business", "Home", "Mobile", "Fax")
ADDRESS_COLUMNS = ("addr_city", "addr_state", "addr_postcode", "addr_country")
STREET_LINES = ("addr_address1", "addr_address2", "addr_address3", "addr_address4")
PERSON_COLUMNS = (
    "pers_salutation", "pers_firstname", "pers_middlename", "pers_lastname", "pers_suffix",
    "pers_title", "pers_department", "pers_website", "pers_status",
)  # fmt: skip
COMPANY_COLUMNS = ("comp_name", "comp_website")

# Every path a contact mapping may name on the CRM side.
PERSON_PATHS: tuple[str, ...] = (
    *PERSON_COLUMNS,
    *(f"company.{column}" for column in COMPANY_COLUMNS),
    *(f"email.{kind}" for kind in EMAIL_TYPES),
    *(f"phone.{kind}" for kind in PHONE_TYPES),
    "address.street",
    *(f"address.{column}" for column in ADDRESS_COLUMNS),
)

_CHUNK = 500


def _live(model: Any) -> Any:
    return or_(model.deleted.is_(None), model.deleted == 0)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def join_street(address: Address) -> str | None:
    lines = [getattr(address, column) for column in STREET_LINES]
    present = [line for line in lines if line]
    return "\n".join(present) or None


def split_street(street: str | None) -> list[str | None]:
    """Up to four lines; any beyond the fourth are kept, joined, in the fourth."""
    lines = [line.strip() for line in (street or "").splitlines() if line.strip()]
    if len(lines) > len(STREET_LINES):
        lines = [*lines[:3], ", ".join(lines[3:])]
    return [*lines, *[None] * (len(STREET_LINES) - len(lines))]


def load_people(db: Session, person_ids: Iterable[int]) -> dict[int, PersonValues]:
    """Every path of each live person, in a handful of queries per 500 persons."""
    ids = sorted(set(person_ids))
    result: dict[int, PersonValues] = {}
    for chunk in _chunks(ids):
        persons = list(
            db.scalars(select(Person).where(Person.pers_personid.in_(chunk), _live(Person)))
        )
        company_ids = {p.pers_companyid for p in persons if p.pers_companyid}
        companies = {
            c.comp_companyid: c
            for c in db.scalars(
                select(Company).where(Company.comp_companyid.in_(company_ids), _live(Company))
            )
        }
        address_ids = {p.pers_primaryaddressid for p in persons if p.pers_primaryaddressid}
        addresses = {
            a.addr_addressid: a
            for a in db.scalars(
                select(Address).where(Address.addr_addressid.in_(address_ids), _live(Address))
            )
        }
        emails = _linked_emails(db, chunk)
        phones = _linked_phones(db, chunk)
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


def _linked_emails(db: Session, person_ids: Sequence[int]) -> dict[tuple[int, str], str]:
    rows = db.execute(
        select(EmailLink.elink_recordid, EmailLink.elink_type, Email.emai_emailaddress)
        .join(Email, Email.emai_emailid == EmailLink.elink_emailid)
        .where(
            EmailLink.elink_entityid == ENTITY_PERSON,
            EmailLink.elink_recordid.in_(person_ids),
            _live(EmailLink),
            _live(Email),
        )
        .order_by(EmailLink.elink_linkid)
    )
    found: dict[tuple[int, str], str] = {}
    for record_id, kind, address in rows:
        if record_id is not None and kind and address:
            found.setdefault((record_id, kind), address)
    return found


def _linked_phones(db: Session, person_ids: Sequence[int]) -> dict[tuple[int, str], str]:
    rows = db.execute(
        select(PhoneLink.plink_recordid, PhoneLink.plink_type, Phone)
        .join(Phone, Phone.phon_phoneid == PhoneLink.plink_phoneid)
        .where(
            PhoneLink.plink_entityid == ENTITY_PERSON,
            PhoneLink.plink_recordid.in_(person_ids),
            _live(PhoneLink),
            _live(Phone),
        )
        .order_by(PhoneLink.plink_linkid)
    )
    found: dict[tuple[int, str], str] = {}
    for record_id, kind, phone in rows:
        composed = compose_phone(
            PhoneParts(phone.phon_countrycode, phone.phon_areacode, phone.phon_number)
        )
        if record_id is not None and kind and composed:
            found.setdefault((record_id, kind), composed)
    return found


def find_company_by_name(db: Session, name: str) -> Company | None:
    """The live company of exactly that name (trimmed); the oldest when there are several."""
    return db.scalars(
        select(Company)
        .where(Company.comp_name == name.strip(), _live(Company))
        .order_by(Company.comp_companyid)
        .limit(1)
    ).first()


def _check_paths(values: Mapping[str, str | None]) -> None:
    unknown = set(values) - set(PERSON_PATHS)
    if unknown:
        raise ValueError(f"unknown person paths: {sorted(unknown)}")


class PersonWriter:
    """Writes person values as Sage CRM would, stamping the acting user on every row."""

    def __init__(self, db: Session, acting_user_id: int | None, *, create_companies: bool) -> None:
        self.db = db
        self.acting_user_id = acting_user_id
        self.create_companies = create_companies

    def _stamp(self, row: Any, *, created: bool) -> None:
        if created:
            row.created_by = self.acting_user_id
        row.updated_by = self.acting_user_id
        # Other CRM clients detect changes by these; set them even when the ORM would not.
        row.updated_date = crm_now()
        row.timestamp = row.updated_date

    def create(self, values: Mapping[str, str | None]) -> Person:
        return self.create_many([values])[0]

    def create_many(self, people: Sequence[Mapping[str, str | None]]) -> list[Person]:
        """New persons with their company, email, phone and address rows, in three flushes
        however many persons there are (bulk imports create thousands)."""
        for values in people:
            _check_paths(values)
        company_ids = self._company_ids(people)
        # First the rows persons point to, then the persons, then the links to them.
        addresses = [self._new_address(values) for values in people]
        emails = [self._new_rows(values, "email", self._new_email) for values in people]
        phones = [self._new_rows(values, "phone", self._new_phone) for values in people]
        self.db.flush()
        persons = []
        for values, address in zip(people, addresses, strict=True):
            person = Person(pers_primaryuserid=self.acting_user_id)
            for column in PERSON_COLUMNS:
                if column in values:
                    setattr(person, column, _blank(values[column]))
            person.pers_companyid = company_ids.get(_blank(values.get("company.comp_name")) or "")
            person.pers_primaryaddressid = address.addr_addressid if address else None
            if "company.comp_website" in values:
                self._set_company(person, "comp_website", _blank(values["company.comp_website"]))
            self._stamp(person, created=True)
            self.db.add(person)
            persons.append(person)
        self.db.flush()
        # New persons have no kept name yet: one INSERT for all, not a look-up per person.
        unlinked_names = [
            {"person_id": person.pers_personid, "name": name}
            for values, person in zip(people, persons, strict=True)
            if (name := _blank(values.get("company.comp_name"))) and person.pers_companyid is None
        ]
        if unlinked_names:
            self.db.execute(insert(UnlinkedCompanyName), unlinked_names)
        # Nothing points to link rows, so they need no ids back: one INSERT per table.
        links: dict[type[Any], list[dict[str, Any]]] = {
            AddressLink: [],
            EmailLink: [],
            PhoneLink: [],
        }
        for person, address, person_emails, person_phones in zip(
            persons, addresses, emails, phones, strict=True
        ):
            if address is not None:
                links[AddressLink].append(
                    {
                        "adli_addressid": address.addr_addressid,
                        "adli_personid": person.pers_personid,
                        "adli_type": "Business",
                    }
                )
            links[EmailLink].extend(
                {
                    "elink_entityid": ENTITY_PERSON,
                    "elink_recordid": person.pers_personid,
                    "elink_emailid": email.emai_emailid,
                    "elink_type": kind,
                }
                for kind, email in person_emails
            )
            links[PhoneLink].extend(
                {
                    "plink_entityid": ENTITY_PERSON,
                    "plink_recordid": person.pers_personid,
                    "plink_phoneid": phone.phon_phoneid,
                    "plink_type": kind,
                }
                for kind, phone in person_phones
            )
        now = crm_now()
        stamps = {
            "created_by": self.acting_user_id,
            "updated_by": self.acting_user_id,
            "created_date": now,
            "updated_date": now,
            "timestamp": now,
        }
        for model, rows in links.items():
            if rows:
                self.db.execute(insert(model), [{**row, **stamps} for row in rows])
        return persons

    def _company_ids(self, people: Sequence[Mapping[str, str | None]]) -> dict[str, int]:
        """Company ids by name, creating the missing companies when that is allowed."""
        names = {name for values in people if (name := _blank(values.get("company.comp_name")))}
        ids = companies_by_name(self.db, names)
        if self.create_companies and names - set(ids):
            created = [Company(comp_name=name) for name in sorted(names - set(ids))]
            for company in created:
                self._stamp(company, created=True)
                self.db.add(company)
            self.db.flush()
            ids.update({c.comp_name: c.comp_companyid for c in created if c.comp_name})
        return ids

    def _new_address(self, values: Mapping[str, str | None]) -> Address | None:
        street = values.get("address.street")
        columns = {c: _blank(values.get(f"address.{c}")) for c in ADDRESS_COLUMNS}
        if street is None and not any(columns.values()):
            return None
        address = Address(**columns)
        for line_column, line in zip(STREET_LINES, split_street(street), strict=True):
            setattr(address, line_column, line)
        self._stamp(address, created=True)
        self.db.add(address)
        return address

    def _new_rows(
        self, values: Mapping[str, str | None], head: str, make: Callable[[str], Any]
    ) -> list[tuple[str, Any]]:
        """An email or phone row for each kind with a value, paired with its kind."""
        rows = []
        for path, raw in values.items():
            kind_head, _, kind = path.partition(".")
            value = _blank(raw)
            if kind_head == head and value is not None:
                row = make(value)
                self._stamp(row, created=True)
                self.db.add(row)
                rows.append((kind, row))
        return rows

    @staticmethod
    def _new_email(value: str) -> Email:
        return Email(emai_emailaddress=value)

    @staticmethod
    def _new_phone(value: str) -> Phone:
        country, area, number = split_phone(value)
        return Phone(phon_countrycode=country, phon_areacode=area, phon_number=number)

    def update(self, person: Person, changes: Mapping[str, str | None]) -> None:
        _check_paths(changes)
        for path, raw in changes.items():
            value = _blank(raw) if path != "address.street" else raw
            head, _, tail = path.partition(".")
            if not tail:
                setattr(person, path, value)
            elif head == "company":
                self._set_company(person, tail, value)
            elif head == "email":
                self._set_email(person, tail, value)
            elif head == "phone":
                self._set_phone(person, tail, value)
            else:
                self._set_address(person, tail, value)
        self._stamp(person, created=False)
        self.db.flush()

    def _set_company(self, person: Person, column: str, value: str | None) -> None:
        if column == "comp_name":
            company = find_company_by_name(self.db, value) if value else None
            if company is None and value and self.create_companies:
                company = Company(comp_name=value)
                self._stamp(company, created=True)
                self.db.add(company)
                self.db.flush()
            person.pers_companyid = company.comp_companyid if company else None
            self._keep_unlinked_name(person, value if company is None else None)
            return
        company = self.db.get(Company, person.pers_companyid) if person.pers_companyid else None
        if company is not None:
            setattr(company, column, value)
            self._stamp(company, created=False)

    def _keep_unlinked_name(self, person: Person, name: str | None) -> None:
        kept = self.db.get(UnlinkedCompanyName, person.pers_personid)
        if name is None:
            if kept is not None:
                self.db.delete(kept)
        elif kept is None:
            self.db.add(UnlinkedCompanyName(person_id=person.pers_personid, name=name))
        else:
            kept.name = name

    def _live_link(self, person: Person, link_model: Any, kind: str) -> Any | None:
        """The person's live emaillink or phonelink row of that type."""
        prefix = link_model.crm_prefix
        return self.db.scalars(
            select(link_model).where(
                getattr(link_model, f"{prefix}_entityid") == ENTITY_PERSON,
                getattr(link_model, f"{prefix}_recordid") == person.pers_personid,
                getattr(link_model, f"{prefix}_type") == kind,
                _live(link_model),
            )
        ).first()

    def _unlink(self, link: Any | None) -> None:
        if link is not None:
            link.deleted = 1
            self._stamp(link, created=False)

    def _set_email(self, person: Person, kind: str, value: str | None) -> None:
        link = self._live_link(person, EmailLink, kind)
        if value is None:
            self._unlink(link)
            return
        email = self.db.get(Email, link.elink_emailid) if link and link.elink_emailid else None
        if email is None:
            email = Email(emai_emailaddress=value)
            self._stamp(email, created=True)
            self.db.add(email)
            self.db.flush()
            link = EmailLink(
                elink_entityid=ENTITY_PERSON,
                elink_recordid=person.pers_personid,
                elink_emailid=email.emai_emailid,
                elink_type=kind,
            )
            self._stamp(link, created=True)
            self.db.add(link)
        else:
            email.emai_emailaddress = value
            self._stamp(email, created=False)

    def _set_phone(self, person: Person, kind: str, value: str | None) -> None:
        link = self._live_link(person, PhoneLink, kind)
        if value is None:
            self._unlink(link)
            return
        parts = split_phone(value)
        phone = self.db.get(Phone, link.plink_phoneid) if link and link.plink_phoneid else None
        if phone is None:
            phone = Phone()
            self._stamp(phone, created=True)
            self.db.add(phone)
        phone.phon_countrycode, phone.phon_areacode, phone.phon_number = parts
        self._stamp(phone, created=False)
        if link is None:
            self.db.flush()
            link = PhoneLink(
                plink_entityid=ENTITY_PERSON,
                plink_recordid=person.pers_personid,
                plink_phoneid=phone.phon_phoneid,
                plink_type=kind,
            )
            self._stamp(link, created=True)
            self.db.add(link)

    def _set_address(self, person: Person, column: str, value: str | None) -> None:
        """Changes the person's primary address row in place.

        The row may be shared with other people or a company: it is updated itself, so that
        everyone at that address sees the change (sync-rules: shared addresses).
        """
        address = (
            self.db.get(Address, person.pers_primaryaddressid)
            if person.pers_primaryaddressid
            else None
        )
        if address is None:
            if value is None:
                return
            address = Address()
            self._stamp(address, created=True)
            self.db.add(address)
            self.db.flush()
            link = AddressLink(
                adli_addressid=address.addr_addressid,
                adli_personid=person.pers_personid,
                adli_type="Business",
            )
            self._stamp(link, created=True)
            self.db.add(link)
            person.pers_primaryaddressid = address.addr_addressid
        if column == "street":
            for line_column, line in zip(STREET_LINES, split_street(value), strict=True):
                setattr(address, line_column, line)
        else:
            setattr(address, column, value)
        self._stamp(address, created=False)

    def soft_delete(self, person: Person) -> None:
        person.deleted = 1
        self._stamp(person, created=False)


def flagged_person_ids(db: Session, user_id: int) -> set[int]:
    return set(
        db.scalars(
            select(UserContact.ucon_personid)
            .join(Person, Person.pers_personid == UserContact.ucon_personid)
            .where(UserContact.ucon_userid == user_id, _live(UserContact), _live(Person))
        )
    )


def flag_person(db: Session, user_id: int, person_id: int) -> None:
    """Flags the person for the user's Outlook (idempotent)."""
    flag_persons(db, user_id, [person_id])


def flag_persons(db: Session, user_id: int, person_ids: Iterable[int]) -> None:
    """Flags the persons for the user's Outlook (idempotent), a query per 500 persons."""
    ids = sorted(set(person_ids))
    now = crm_now()
    for chunk in _chunks(ids):
        flagged = set(
            db.scalars(
                select(UserContact.ucon_personid).where(
                    UserContact.ucon_userid == user_id,
                    UserContact.ucon_personid.in_(chunk),
                    _live(UserContact),
                )
            )
        )
        db.add_all(
            UserContact(
                ucon_userid=user_id,
                ucon_personid=person_id,
                created_by=user_id,
                updated_by=user_id,
                updated_date=now,
                timestamp=now,
            )
            for person_id in chunk
            if person_id not in flagged
        )
    db.flush()


def unflag_person(db: Session, user_id: int, person_id: int) -> None:
    now = crm_now()
    for row in db.scalars(
        select(UserContact).where(
            UserContact.ucon_userid == user_id,
            UserContact.ucon_personid == person_id,
            _live(UserContact),
        )
    ):
        row.deleted = 1
        row.updated_by = user_id
        row.updated_date = now
        row.timestamp = now
    db.flush()


def persons_with_email(db: Session, addresses: Iterable[str]) -> dict[str, list[int]]:
    """Live persons by lower-cased email address (for duplicate checks and matching)."""
    wanted = sorted({a.strip().lower() for a in addresses if a and a.strip()})
    found: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(wanted), _CHUNK):
        rows = db.execute(
            select(func.lower(Email.emai_emailaddress), EmailLink.elink_recordid)
            .join(EmailLink, EmailLink.elink_emailid == Email.emai_emailid)
            .join(Person, Person.pers_personid == EmailLink.elink_recordid)
            .where(
                func.lower(Email.emai_emailaddress).in_(wanted[start : start + _CHUNK]),
                EmailLink.elink_entityid == ENTITY_PERSON,
                _live(Email),
                _live(EmailLink),
                _live(Person),
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
    for start in range(0, len(wanted), _CHUNK):
        rows = db.execute(
            select(Company.comp_name, func.min(Company.comp_companyid))
            .where(Company.comp_name.in_(wanted[start : start + _CHUNK]), _live(Company))
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
    for start in range(0, len(last_names), _CHUNK):
        chunk = last_names[start : start + _CHUNK]
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
            .where(or_(func.lower(last_name).in_(chunk), last_name.in_(chunk)), _live(Person))
            .order_by(Person.pers_personid)
        )
        for person_id, first, last, company_id in rows:
            key = name_key(first, last, company_id)
            if key in wanted:
                found.setdefault(key, person_id)
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
