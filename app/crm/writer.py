"""Writing persons as Sage CRM would: audit columns, soft deletes, link tables, shared
address rows, companies found or created by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.crm.lookups import companies_by_name, find_company_by_name
from app.crm.paths import (
    ADDRESS_COLUMNS,
    PERSON_COLUMNS,
    STREET_LINES,
    blank,
    check_paths,
    split_street,
)
from app.crm.phones import split_phone
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
    live,
)
from app.models.sync import UnlinkedCompanyName


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
            check_paths(values)
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
                    setattr(person, column, blank(values[column]))
            person.pers_companyid = company_ids.get(blank(values.get("company.comp_name")) or "")
            person.pers_primaryaddressid = address.addr_addressid if address else None
            if "company.comp_website" in values:
                self._set_company(person, "comp_website", blank(values["company.comp_website"]))
            self._stamp(person, created=True)
            self.db.add(person)
            persons.append(person)
        self.db.flush()
        # New persons have no kept name yet: one INSERT for all, not a look-up per person.
        unlinked_names = [
            {"person_id": person.pers_personid, "name": name}
            for values, person in zip(people, persons, strict=True)
            if (name := blank(values.get("company.comp_name"))) and person.pers_companyid is None
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
        names = {name for values in people if (name := blank(values.get("company.comp_name")))}
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
        columns = {c: blank(values.get(f"address.{c}")) for c in ADDRESS_COLUMNS}
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
            value = blank(raw)
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
        check_paths(changes)
        for path, raw in changes.items():
            value = blank(raw) if path != "address.street" else raw
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
                live(link_model),
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
