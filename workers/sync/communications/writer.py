"""Writing communications as Sage CRM would: audit columns, attendee links, exception rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.crm.lookups import persons_with_email
from app.kit.clock import crm_now
from app.models.crm import FLAG_SET, CommLink, Communication, User, live
from workers.sync.appointments.mapping import times_from_crm, times_to_crm
from workers.sync.core.occurrences import ModifiedOccurrence
from workers.sync.core.values import email


class CommunicationWriter:
    """Writes one user's communications, stamping that user on every row."""

    def __init__(self, db: Session, user_id: int, crm_zone: tzinfo) -> None:
        self.db = db
        self.user_id = user_id
        self.crm_zone = crm_zone

    def stamp(self, row: Any, *, created: bool) -> None:
        if created:
            row.created_by = self.user_id
        row.updated_by = self.user_id
        row.updated_date = row.timestamp = crm_now()

    def link(self, comm_id: int, **ids: Any) -> None:
        link = CommLink(cmli_comm_communicationid=comm_id, **ids)
        self.stamp(link, created=True)
        self.db.add(link)

    def write_attendees(self, comm_id: int, addresses: Sequence[str]) -> None:
        """Links attendees: CRM users, then persons by email, else external attendees."""
        wanted = set(addresses)
        users = {
            address: user_id
            for user_id, address in self.db.execute(
                select(User.user_userid, func.lower(User.user_emailaddress)).where(
                    func.lower(User.user_emailaddress).in_(wanted)
                )
            )
            if user_id != self.user_id
        }
        persons = persons_with_email(self.db, wanted - set(users))
        existing = list(
            self.db.scalars(
                select(CommLink).where(
                    CommLink.cmli_comm_communicationid == comm_id,
                    live(CommLink),
                    or_(
                        CommLink.cmli_comm_userid.is_(None),
                        CommLink.cmli_comm_userid != self.user_id,
                    ),
                )
            )
        )
        kept: set[str] = set()
        person_emails = {pid: a for a, pids in persons.items() for pid in pids[:1]}
        user_emails = {uid: a for a, uid in users.items()}
        for link in existing:
            address = (
                user_emails.get(link.cmli_comm_userid or 0)
                or person_emails.get(link.cmli_comm_personid or 0)
                or (
                    email(link.cmli_externalemail)
                    if link.cmli_isexternalattendee == FLAG_SET
                    else None
                )
            )
            if address in wanted and address not in kept:
                kept.add(address)
            elif link.cmli_comm_personid or link.cmli_comm_userid or link.cmli_isexternalattendee:
                link.deleted = 1
                self.stamp(link, created=False)
        for address in sorted(wanted - kept):
            if address in users:
                self.link(comm_id, cmli_comm_userid=users[address])
            elif address in persons:
                self.link(comm_id, cmli_comm_personid=persons[address][0])
            else:
                self.link(comm_id, cmli_isexternalattendee=FLAG_SET, cmli_externalemail=address)

    def exception_rows(self, master_id: int) -> list[Communication]:
        return list(
            self.db.scalars(
                select(Communication).where(
                    Communication.comm_recurrenceid == master_id, live(Communication)
                )
            )
        )

    def write_exceptions(self, master: Communication, wanted: Sequence[ModifiedOccurrence]) -> None:
        """Exception communications, one per modified occurrence, keyed by original start."""
        by_original: dict[Any, Communication | None] = {}
        for row in self.exception_rows(master.comm_communicationid):
            all_day = row.comm_isalldayevent == FLAG_SET
            original, _ = times_from_crm(row.comm_originaldatetime, None, all_day, self.crm_zone)
            by_original[original] = row
        for occurrence in wanted:
            row = by_original.pop(occurrence.original_start, None) or Communication(
                comm_type=master.comm_type,
                comm_action=master.comm_action,
                comm_status=master.comm_status,
                comm_recurrenceid=master.comm_communicationid,
                comm_exception=FLAG_SET,
            )
            if row.comm_communicationid is None:
                self.stamp(row, created=True)
                self.db.add(row)
            original, _ = times_to_crm(
                occurrence.original_start, occurrence.original_start, self.crm_zone
            )
            row.comm_originaldatetime = original
            row.comm_datetime, row.comm_todatetime = times_to_crm(
                occurrence.start, occurrence.end, self.crm_zone
            )
            row.comm_isalldayevent = master.comm_isalldayevent
            row.comm_subject = occurrence.subject
            row.comm_location = occurrence.location
            self.stamp(row, created=False)
        for unwanted in by_original.values():
            if unwanted is not None:
                unwanted.deleted = 1
                self.stamp(unwanted, created=False)
