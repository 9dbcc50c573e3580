"""The CRM side of contact synchronization: a user's flagged persons (ports.CrmSide)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select, union
from sqlalchemy.orm import Session

from app.crm.flags import flag_person, flagged_person_ids, unflag_person
from app.crm.paths import PersonValues
from app.crm.people import load_people
from app.crm.writer import PersonWriter
from app.kit.chunks import chunked
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
from workers.sync.contacts.mapping import ContactMapping
from workers.sync.core.planner import CrmItem, OutlookDeleteMode
from workers.sync.core.ports import CrmListing
from workers.sync.core.records import Record, Unreadable, unreadable_on_error
from workers.sync.core.timezones import modified_from_crm
from workers.sync.crm_writes import in_savepoint

# CRM clients stamp `_updateddate` with their own clocks and commit after stamping: re-reading a
# window before the watermark catches rows committed late; content comparison drops repeats.
WATERMARK_OVERLAP = timedelta(minutes=5)


def changed_person_ids(db: Session, user_id: int, since: datetime) -> set[int]:
    """Persons whose row or any row their contact data comes from changed since `since`."""
    queries: list[Select[Any]] = [
        select(Person.pers_personid).where(Person.updated_date >= since),
        select(UserContact.ucon_personid).where(
            UserContact.ucon_userid == user_id, UserContact.updated_date >= since
        ),
        select(EmailLink.elink_recordid)
        .join(Email, Email.emai_emailid == EmailLink.elink_emailid, isouter=True)
        .where(
            EmailLink.elink_entityid == ENTITY_PERSON,
            or_(EmailLink.updated_date >= since, Email.updated_date >= since),
        ),
        select(PhoneLink.plink_recordid)
        .join(Phone, Phone.phon_phoneid == PhoneLink.plink_phoneid, isouter=True)
        .where(
            PhoneLink.plink_entityid == ENTITY_PERSON,
            or_(PhoneLink.updated_date >= since, Phone.updated_date >= since),
        ),
        select(Person.pers_personid)
        .join(Address, Address.addr_addressid == Person.pers_primaryaddressid)
        .where(Address.updated_date >= since),
        select(AddressLink.adli_personid).where(AddressLink.updated_date >= since),
        select(Person.pers_personid)
        .join(Company, Company.comp_companyid == Person.pers_companyid)
        .where(Company.updated_date >= since),
    ]
    # A UNION names no mapped entity, so the session is told which database to ask.
    ids: Iterable[int | None] = db.scalars(union(*queries), bind_arguments={"mapper": Person})
    return {person_id for person_id in ids if person_id is not None}


class CrmContacts:
    def __init__(
        self,
        db: Session,
        user_id: int,
        mapping: ContactMapping,
        *,
        create_companies: bool,
        crm_zone: ZoneInfo,
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.mapping = mapping
        self.crm_zone = crm_zone
        self.writer = PersonWriter(db, user_id, create_companies=create_companies)

    def _items(self, person_ids: Iterable[int]) -> dict[str, CrmItem | Unreadable]:
        values = load_people(self.db, person_ids)
        ids = list(values)
        modified: dict[int, datetime | None] = {}
        for chunk in chunked(ids):
            rows = self.db.execute(
                select(Person.pers_personid, Person.updated_date).where(
                    Person.pers_personid.in_(chunk)
                )
            )
            modified.update((person_id, updated) for person_id, updated in rows)
        return {
            str(person_id): unreadable_on_error(
                partial(self._item, person_id, person_values, modified.get(person_id))
            )
            for person_id, person_values in values.items()
        }

    def _item(self, person_id: int, values: PersonValues, modified: datetime | None) -> CrmItem:
        return CrmItem(
            crm_id=str(person_id),
            record=self.mapping.record_from_crm(values),
            modified=modified_from_crm(modified, self.crm_zone),
        )

    def list_changes(self, watermark: datetime | None, linked_ids: set[str]) -> CrmListing:
        """Changes since the watermark; with none, every flagged person (a complete listing)."""
        flagged = {str(i) for i in flagged_person_ids(self.db, self.user_id)}
        if watermark is None:
            return CrmListing(dict(self._items(int(i) for i in flagged)), complete=True)
        changed = {
            str(i) for i in changed_person_ids(self.db, self.user_id, watermark - WATERMARK_OVERLAP)
        }
        changes: dict[str, CrmItem | Unreadable | None] = {}
        changes.update(self._items(int(i) for i in changed & flagged))
        # A linked person no longer flagged (or deleted) has left this user's scope.
        for crm_id in linked_ids - flagged:
            changes[crm_id] = None
        return CrmListing(changes, complete=False)

    def fetch(self, crm_ids: Iterable[str]) -> dict[str, CrmItem | Unreadable | None]:
        found = self._items(int(i) for i in crm_ids)
        flagged = {str(i) for i in flagged_person_ids(self.db, self.user_id)}
        return {i: (found.get(i) if i in flagged else None) for i in crm_ids}

    @in_savepoint
    def create(self, record: Record, replaces: str | None) -> str:
        changes = self.mapping.crm_changes(record)
        person = self.db.get(Person, int(replaces)) if replaces else None
        if person is not None and person.is_live:
            self.writer.update(person, changes)
        else:
            person = self.writer.create(changes)
        flag_person(self.db, self.user_id, person.pers_personid)
        return str(person.pers_personid)

    @in_savepoint
    def update(self, crm_id: str, changes: Record) -> None:
        person = self.db.get(Person, int(crm_id))
        if person is None or not person.is_live:
            raise LookupError(f"person {crm_id} no longer exists in the CRM")
        self.writer.update(person, self.mapping.crm_changes(changes))

    @in_savepoint
    def delete(self, crm_id: str, mode: OutlookDeleteMode) -> None:
        if mode is OutlookDeleteMode.UNLINK:
            return
        unflag_person(self.db, self.user_id, int(crm_id))
        if mode is OutlookDeleteMode.DELETE:
            person = self.db.get(Person, int(crm_id))
            if person is not None and person.is_live:
                self.writer.soft_delete(person)
