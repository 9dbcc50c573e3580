"""The CRM side of appointment and task synchronization (engine.CrmSide plus listing).

A user's items are the live communications of the entity's type linked to them in `comm_link`
(exception rows of a series belong to their master's record). Items the user may not send to
Outlook — `comm_crmonly`, private ones unless allowed, those an exclusion rule matches — are out
of scope: a linked one that becomes excluded reads as gone, so it leaves Outlook.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, func, inspect, or_, select, union
from sqlalchemy.orm import Session

from app.crm.people import load_people, persons_with_email
from app.exclusions.schemas import ExclusionRule
from app.exclusions.service import is_excluded
from app.kit.clock import crm_now
from app.models.crm import (
    FLAG_SET,
    Case,
    CommLink,
    Communication,
    Company,
    Opportunity,
    User,
)
from app.templates.schemas import (
    CaseDetails,
    CompanyDetails,
    DetailsContext,
    OpportunityDetails,
    PersonDetails,
    UserDetails,
)
from workers.sync.appointments.mapping import times_from_crm, times_to_crm
from workers.sync.contacts.crm import WATERMARK_OVERLAP
from workers.sync.core.occurrences import ModifiedOccurrence
from workers.sync.core.planner import CrmItem, OutlookDeleteMode
from workers.sync.core.ports import CrmListing
from workers.sync.core.records import Record, Value
from workers.sync.core.values import OCCURRENCES, email, members, text
from workers.sync.crm_writes import in_savepoint

_CHUNK = 500
OUTSIDE_WINDOW = "left alone: outside the first synchronization's window"
_COLUMN_KEYS = {
    column.name: attribute.key
    for attribute in inspect(Communication).column_attrs
    for column in attribute.columns
}


def _live(model: Any) -> ColumnElement[bool]:
    return or_(model.deleted.is_(None), model.deleted == 0)


@dataclass(frozen=True)
class Related:
    """What one communication's record needs besides its own row."""

    attendees: list[str] = field(default_factory=list)
    exceptions: list[Communication] = field(default_factory=list)
    details: str | None = None


@dataclass(frozen=True)
class CommunicationKind:
    """The entity-specific parts: which rows, how they read and how records write them."""

    comm_type: str
    comm_action: str
    fields: frozenset[str]
    # (row, related) → record; record (whole) → communication columns
    to_record: Callable[[Communication, Related], dict[str, Value]]
    to_columns: Callable[[Record], dict[str, Any]]
    # The first-sync window (sync-rules) as a condition, given "now" and the window's start.
    window: Callable[[datetime, datetime], ColumnElement[bool]]


@dataclass(frozen=True)
class Scope:
    """Which of the user's items may go to Outlook."""

    sync_private: bool
    rules: Sequence[ExclusionRule]

    def excluded(self, row: Communication, *, linked: bool) -> str | None:
        if row.comm_crmonly == FLAG_SET:
            return "marked CRM-only"
        # Privacy keeps new items out of Outlook; an item already there that turns private
        # (often in Outlook itself) stays, or marking it private would delete it from Outlook.
        if row.comm_private == FLAG_SET and not self.sync_private and not linked:
            return "private"
        rule = is_excluded(
            self.rules, {name: getattr(row, key) for name, key in _COLUMN_KEYS.items()}
        )
        return f"excluded by rule {rule.id}" if rule else None


class CrmCommunications:
    def __init__(
        self,
        db: Session,
        user_id: int,
        kind: CommunicationKind,
        scope: Scope,
        *,
        render_details: Callable[[DetailsContext], str] | None,
        crm_zone: tzinfo,
        window_days: int,
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.kind = kind
        self.scope = scope
        self.render_details = render_details
        self.crm_zone = crm_zone
        self.window_days = window_days

    # --- reading ---------------------------------------------------------------------------

    def _owned(self) -> Any:
        return (
            select(Communication.comm_communicationid)
            .join(
                CommLink, CommLink.cmli_comm_communicationid == Communication.comm_communicationid
            )
            .where(
                CommLink.cmli_comm_userid == self.user_id,
                _live(CommLink),
                _live(Communication),
                Communication.comm_type == self.kind.comm_type,
                Communication.comm_recurrenceid.is_(None),
            )
        )

    def _owned_ids(self, condition: ColumnElement[bool] | None = None) -> set[str]:
        query = self._owned()
        if condition is not None:
            query = query.where(condition)
        return {str(i) for i in self.db.scalars(query.distinct())}

    def _now(self) -> datetime:
        return datetime.now(self.crm_zone).replace(tzinfo=None)

    def list_changes(self, watermark: datetime | None, linked_ids: set[str]) -> CrmListing:
        """Changes since the watermark; with none, the first-sync window plus linked items."""
        if watermark is None:
            now = self._now()
            window = self.kind.window(now, now - timedelta(days=self.window_days))
            in_window = self._owned_ids(window)
            owned = self._owned_ids()
            items = self._items(in_window | (owned & linked_ids), linked_ids)
            outside = dict.fromkeys(owned - in_window - linked_ids, OUTSIDE_WINDOW)
            listed = {i: items.get(i) for i in in_window | linked_ids}
            return CrmListing(listed, complete=True, left_alone=outside)
        since = watermark - WATERMARK_OVERLAP
        changed = self._changed_ids(since)
        # Ownership is asked of the changed items only: deleting a communication or removing
        # the user's comm_link stamps the row, so a run's cost follows what changed.
        owned = self._owned_among(changed)
        items = self._items(owned, linked_ids)
        changes: dict[str, CrmItem | None] = {i: items.get(i) for i in owned}
        for crm_id in (linked_ids & changed) - owned:
            changes[crm_id] = None  # deleted, or no longer this user's
        return CrmListing(changes, complete=False)

    def _owned_among(self, crm_ids: set[str]) -> set[str]:
        ids = sorted(int(i) for i in crm_ids)
        owned: set[str] = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            owned |= self._owned_ids(Communication.comm_communicationid.in_(chunk))
        return owned

    def _changed_ids(self, since: datetime) -> set[str]:
        queries: list[Any] = [
            select(Communication.comm_communicationid).where(
                Communication.comm_type == self.kind.comm_type,
                Communication.updated_date >= since,
            ),
            select(Communication.comm_recurrenceid).where(
                Communication.comm_recurrenceid.is_not(None),
                Communication.updated_date >= since,
            ),
            select(CommLink.cmli_comm_communicationid).where(CommLink.updated_date >= since),
        ]
        ids = self.db.scalars(union(*queries), bind_arguments={"mapper": Communication})
        return {str(i) for i in ids if i is not None}

    def fetch(self, crm_ids: Iterable[str]) -> dict[str, CrmItem | None]:
        wanted = set(crm_ids)
        items = self._items(self._owned_among(wanted), wanted)
        return {i: items.get(i) for i in wanted}

    def _items(self, crm_ids: Iterable[str], linked: set[str]) -> dict[str, CrmItem]:
        ids = sorted(int(i) for i in crm_ids)
        items: dict[str, CrmItem] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = list(
                self.db.scalars(
                    select(Communication).where(Communication.comm_communicationid.in_(chunk))
                )
            )
            related = self._related(rows)
            for row in rows:
                if self.scope.excluded(row, linked=str(row.comm_communicationid) in linked):
                    continue
                record = self.kind.to_record(row, related[row.comm_communicationid])
                items[str(row.comm_communicationid)] = CrmItem(
                    str(row.comm_communicationid), record, self._modified(row, related)
                )
        return items

    def _modified(self, row: Communication, related: dict[int, Related]) -> datetime:
        stamps = [row.updated_date] + [
            e.updated_date for e in related[row.comm_communicationid].exceptions
        ]
        latest = max((s for s in stamps if s is not None), default=None)
        if latest is None:
            return datetime.min.replace(tzinfo=UTC)
        # Exchange keeps whole seconds; compared at the coarser precision, a tie goes to the CRM.
        return latest.replace(tzinfo=self.crm_zone, microsecond=0).astimezone(UTC)

    def _related(self, rows: Sequence[Communication]) -> dict[int, Related]:
        ids = [row.comm_communicationid for row in rows]
        links: dict[int, list[CommLink]] = defaultdict(list)
        for link in self.db.scalars(
            select(CommLink).where(CommLink.cmli_comm_communicationid.in_(ids), _live(CommLink))
        ):
            links[link.cmli_comm_communicationid or 0].append(link)
        exceptions: dict[int, list[Communication]] = defaultdict(list)
        if OCCURRENCES in self.kind.fields:
            for row in self.db.scalars(
                select(Communication).where(
                    Communication.comm_recurrenceid.in_(ids),
                    Communication.comm_exception == FLAG_SET,
                    _live(Communication),
                )
            ):
                exceptions[row.comm_recurrenceid or 0].append(row)
        all_links = [link for group in links.values() for link in group]
        user_ids = {link.cmli_comm_userid for link in all_links if link.cmli_comm_userid}
        users = {
            user.user_userid: user
            for user in self.db.scalars(select(User).where(User.user_userid.in_(user_ids)))
        }
        person_ids = {link.cmli_comm_personid for link in all_links if link.cmli_comm_personid}
        people = load_people(self.db, person_ids)
        contexts = self._contexts(rows, links, users, people) if self.render_details else {}
        related: dict[int, Related] = {}
        for row in rows:
            attendees: list[str] = []
            for link in links[row.comm_communicationid]:
                address: str | None = None
                if link.cmli_comm_userid and link.cmli_comm_userid != self.user_id:
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
            details = (
                text(self.render_details(context)) if self.render_details and context else None
            )
            related[row.comm_communicationid] = Related(
                attendees, exceptions[row.comm_communicationid], details
            )
        return related

    def _contexts(
        self,
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
            for c in self.db.scalars(
                select(Company).where(
                    Company.comp_companyid.in_(set(filter(None, company_ids.values())))
                )
            )
        }
        opportunities = {
            o.oppo_opportunityid: o
            for o in self.db.scalars(
                select(Opportunity).where(
                    Opportunity.oppo_opportunityid.in_(
                        {r.comm_opportunityid for r in rows if r.comm_opportunityid}
                    )
                )
            )
        }
        cases = {
            c.case_caseid: c
            for c in self.db.scalars(
                select(Case).where(
                    Case.case_caseid.in_({r.comm_caseid for r in rows if r.comm_caseid})
                )
            )
        }
        owner = users.get(self.user_id) or self.db.get(User, self.user_id)
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

    # --- writing -----------------------------------------------------------------------------

    def _stamp(self, row: Any, *, created: bool) -> None:
        if created:
            row.created_by = self.user_id
        row.updated_by = self.user_id
        row.updated_date = row.timestamp = crm_now()

    def _current(self, row: Communication) -> dict[str, Value]:
        return self.kind.to_record(row, self._related([row])[row.comm_communicationid])

    @in_savepoint
    def create(self, record: Record, replaces: str | None) -> str:
        row = self.db.get(Communication, int(replaces)) if replaces else None
        if row is None or row.comm_type != self.kind.comm_type:
            row = Communication(
                comm_type=self.kind.comm_type,
                comm_action=self.kind.comm_action,
                comm_status="Pending",
            )
            self._stamp(row, created=True)
            self.db.add(row)
            self.db.flush()
        row.deleted = None
        self._write(row, record, set(record))
        self._link(row.comm_communicationid, cmli_comm_userid=self.user_id)
        return str(row.comm_communicationid)

    @in_savepoint
    def update(self, crm_id: str, changes: Record) -> None:
        row = self.db.get(Communication, int(crm_id))
        if row is None or row.deleted == 1:
            raise LookupError(f"communication {crm_id} no longer exists in the CRM")
        self._write(row, {**self._current(row), **changes}, set(changes))

    @in_savepoint
    def delete(self, crm_id: str, mode: OutlookDeleteMode) -> None:
        if mode is not OutlookDeleteMode.DELETE:
            return  # unlink: the record stays as it is
        row = self.db.get(Communication, int(crm_id))
        if row is None or row.deleted == 1:
            return
        for exception in self._exception_rows(row.comm_communicationid):
            exception.deleted = 1
            self._stamp(exception, created=False)
        row.deleted = 1
        self._stamp(row, created=False)

    def _write(self, row: Communication, record: Record, changed: set[str]) -> None:
        for column, value in self.kind.to_columns(record).items():
            setattr(row, column, value)
        self._stamp(row, created=False)
        if "attendees" in changed:
            attendees = members(record.get("attendees"))
            self._write_attendees(
                row.comm_communicationid, [a for a in attendees if isinstance(a, str)]
            )
        if OCCURRENCES in changed or "recurrence" in changed:
            values = members(record.get(OCCURRENCES)) if record.get("recurrence") else ()
            self._write_exceptions(row, [ModifiedOccurrence.from_value(v) for v in values])
        self.db.flush()

    def _link(self, comm_id: int, **ids: Any) -> None:
        link = CommLink(cmli_comm_communicationid=comm_id, **ids)
        self._stamp(link, created=True)
        self.db.add(link)

    def _write_attendees(self, comm_id: int, addresses: Sequence[str]) -> None:
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
                    _live(CommLink),
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
                self._stamp(link, created=False)
        for address in sorted(wanted - kept):
            if address in users:
                self._link(comm_id, cmli_comm_userid=users[address])
            elif address in persons:
                self._link(comm_id, cmli_comm_personid=persons[address][0])
            else:
                self._link(comm_id, cmli_isexternalattendee=FLAG_SET, cmli_externalemail=address)

    def _exception_rows(self, master_id: int) -> list[Communication]:
        return list(
            self.db.scalars(
                select(Communication).where(
                    Communication.comm_recurrenceid == master_id, _live(Communication)
                )
            )
        )

    def _write_exceptions(
        self, master: Communication, wanted: Sequence[ModifiedOccurrence]
    ) -> None:
        """Exception communications, one per modified occurrence, keyed by original start."""
        by_original: dict[Any, Communication | None] = {}
        for row in self._exception_rows(master.comm_communicationid):
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
                self._stamp(row, created=True)
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
            self._stamp(row, created=False)
        for unwanted in by_original.values():
            if unwanted is not None:
                unwanted.deleted = 1
                self._stamp(unwanted, created=False)


def appointment_window(now: datetime, since: datetime) -> ColumnElement[bool]:
    """Every recurring appointment; modified in the window; ending in the window."""
    return or_(
        Communication.comm_recurrencerule.is_not(None),
        Communication.updated_date >= since,
        and_(Communication.comm_todatetime >= since, Communication.comm_todatetime <= now),
    )


def task_window(now: datetime, since: datetime) -> ColumnElement[bool]:
    """Tasks modified in the window, and every Pending or In Progress one."""
    return or_(
        Communication.updated_date >= since,
        Communication.comm_status.in_(("Pending", "In Progress")),
    )
