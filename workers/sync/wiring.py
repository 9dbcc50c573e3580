"""What differs between the synchronized entities: folders, codecs, CRM sides and policies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.exclusions.schemas import ExclusionRule
from app.exclusions.service import list_rules
from app.kit.sync_terms import SyncEntity
from app.mappings.catalog import FIELDS
from app.mappings.service import get_mapping, get_task_status_mapping
from app.models.crm import FLAG_SET, Communication
from app.models.sync import SyncUser
from app.sync_settings.schemas import EffectiveSettings
from app.templates.schemas import DetailsContext
from app.templates.service import details_renderer
from workers.connectors.ews.calendar import CalendarCodec
from workers.connectors.ews.calendar_folder import CalendarGateway
from workers.connectors.ews.contacts import ContactCodec
from workers.connectors.ews.folder import FolderGateway
from workers.connectors.ews.tasks import TaskCodec, TaskGateway
from workers.connectors.graph.mailbox import GraphMailbox
from workers.connectors.graph.tasks import GraphTaskCodec
from workers.sync.appointments import mapping as appointments
from workers.sync.communications.columns import MovedField
from workers.sync.communications.crm import CommunicationKind, CrmCommunications
from workers.sync.communications.scope import (
    OUTSIDE_WINDOW,
    Scope,
    appointment_window,
    task_window,
)
from workers.sync.contacts.crm import CrmContacts
from workers.sync.contacts.mapping import ContactMapping, FieldPair, contact_match_keys
from workers.sync.core.occurrences import ModifiedOccurrence
from workers.sync.core.planner import (
    Direction,
    EntityPolicy,
    RemoteItem,
)
from workers.sync.core.policy import MatchKeys
from workers.sync.core.ports import CrmSide, MailboxFolder
from workers.sync.core.records import Record
from workers.sync.core.task_status import StatusMap
from workers.sync.core.values import ItemMapping, email, text
from workers.sync.tasks import mapping as tasks


class EntitySource(Protocol):
    @property
    def user_id(self) -> int: ...

    @property
    def entity(self) -> str: ...

    def gateway(self, account: Any) -> MailboxFolder: ...

    def crm_side(self, db: Session) -> CrmSide: ...

    def policy(self, *, deletions_confirmed: bool) -> EntityPolicy: ...

    def left_alone(self, item: RemoteItem, first_sync: bool) -> str | None:
        """Why an unlinked Outlook item stays out of this run (a window, privacy), if it does."""


def entity_policy(
    settings: EffectiveSettings,
    entity: SyncEntity,
    match_keys: MatchKeys,
    field_directions: dict[str, Direction],
    *,
    deletions_confirmed: bool,
) -> EntityPolicy:
    chosen = settings.for_entity(entity)
    return EntityPolicy(
        direction=chosen.direction,
        conflict_policy=chosen.conflict_policy,
        on_outlook_delete=chosen.on_outlook_delete,
        match_keys=match_keys,
        mass_delete_threshold=settings.mass_delete_threshold,
        mass_delete_minimum=settings.mass_delete_minimum,
        deletions_confirmed=deletions_confirmed,
        field_directions=field_directions,
    )


@dataclass(frozen=True)
class ContactSource:
    user_id: int
    settings: EffectiveSettings
    mapping: ContactMapping
    entity: str = SyncEntity.CONTACTS.value

    def gateway(self, account: Any) -> MailboxFolder:
        if isinstance(account, GraphMailbox):
            return account.contacts(self.mapping.outlook_fields)
        return FolderGateway(account, account.contacts, ContactCodec(self.mapping.outlook_fields))

    def left_alone(self, item: RemoteItem, first_sync: bool) -> str | None:
        return None  # every contact of the Contacts folder takes part

    def crm_side(self, db: Session) -> CrmSide:
        return CrmContacts(
            db,
            self.user_id,
            self.mapping,
            create_companies=self.settings.create_unknown_companies,
            crm_zone=ZoneInfo(self.settings.crm_timezone),
        )

    def policy(self, *, deletions_confirmed: bool) -> EntityPolicy:
        return entity_policy(
            self.settings,
            SyncEntity.CONTACTS,
            contact_match_keys,
            self.mapping.field_directions,
            deletions_confirmed=deletions_confirmed,
        )


def sources_for(user_id: int, settings: EffectiveSettings, db: Session) -> list[EntitySource]:
    """The entities enabled for the user, in the order they are synchronized."""
    sources: list[EntitySource] = []
    if settings.contacts.enabled:
        pairs = tuple(
            FieldPair(row.crm, row.outlook, row.direction)
            for row in get_mapping(db, SyncEntity.CONTACTS)
        )
        sources.append(ContactSource(user_id, settings, ContactMapping(pairs)))
    if not (settings.appointments.enabled or settings.tasks.enabled):
        return sources
    user = db.get(SyncUser, user_id)
    common: dict[str, Any] = {
        "zone": ZoneInfo((user.timezone if user else None) or settings.crm_timezone),
        "mailbox": email(user.mailbox if user else None) or "",
        "now": datetime.now(UTC),
    }
    if settings.appointments.enabled:
        parts = _appointment_parts(common["zone"], common["mailbox"])
        sources.append(
            _communications(SyncEntity.APPOINTMENTS, parts, user_id, settings, db, **common)
        )
    if settings.tasks.enabled:
        parts = _task_parts(db, common["zone"])
        sources.append(_communications(SyncEntity.TASKS, parts, user_id, settings, db, **common))
    return sources


PRIVATE_LEFT_ALONE = "left alone: private in Outlook, and private items are not synchronized"


@dataclass(frozen=True)
class CommunicationSource:
    """Appointments or tasks: a communication type ↔ a default Exchange folder."""

    user_id: int
    entity: str
    settings: EffectiveSettings
    mapping: ItemMapping
    kind: CommunicationKind
    zone: ZoneInfo  # the user's
    mailbox: str
    rules: tuple[ExclusionRule, ...]
    render_details: Callable[[DetailsContext], str]
    now: datetime
    in_window: Callable[[Record, datetime, datetime, int], bool]
    make_gateway: Callable[[Any], MailboxFolder]
    match_keys: MatchKeys
    forced_directions: dict[str, Direction]

    def gateway(self, account: Any) -> MailboxFolder:
        return self.make_gateway(account)

    def crm_side(self, db: Session) -> CrmSide:
        return CrmCommunications(
            db,
            self.user_id,
            self.kind,
            Scope(self.settings.sync_private, self.rules),
            render_details=self.render_details if "body" in self.mapping.fields else None,
            crm_zone=ZoneInfo(self.settings.crm_timezone),
            window_days=self.settings.first_sync_days,
        )

    def policy(self, *, deletions_confirmed: bool) -> EntityPolicy:
        return entity_policy(
            self.settings,
            SyncEntity(self.entity),
            self.match_keys,
            self.mapping.field_directions(self.forced_directions),
            deletions_confirmed=deletions_confirmed,
        )

    def left_alone(self, item: RemoteItem, first_sync: bool) -> str | None:
        if item.record.get("private") and not self.settings.sync_private:
            return PRIVATE_LEFT_ALONE
        days = self.settings.first_sync_days
        if first_sync and not self.in_window(item.record, item.modified, self.now, days):
            return OUTSIDE_WINDOW
        return None


@dataclass(frozen=True)
class _EntityParts:
    """What distinguishes appointments from tasks, given the mapping and the zones."""

    kind: CommunicationKind
    make_gateway: Callable[[Any], MailboxFolder]
    in_window: Callable[[Record, datetime, datetime, int], bool]
    match_keys: MatchKeys
    forced_directions: dict[str, Direction]


# The entity's parts for an admin's mapping and the CRM's zone.
_PartsFor = Callable[[ItemMapping, ZoneInfo], _EntityParts]


def _communications(
    entity: SyncEntity,
    parts: _PartsFor,
    user_id: int,
    settings: EffectiveSettings,
    db: Session,
    **common: Any,
) -> EntitySource:
    rows = get_mapping(db, entity)
    mapping = ItemMapping({row.outlook: row.direction for row in rows})
    chosen = parts(mapping, ZoneInfo(settings.crm_timezone))
    defaults = {outlook: crm for crm, outlook in FIELDS[entity].default}
    moved = tuple(
        MovedField(row.outlook, defaults[row.outlook], row.crm)
        for row in rows
        if row.outlook in FIELDS[entity].movable and row.crm != defaults[row.outlook]
    )
    return CommunicationSource(
        user_id,
        entity.value,
        settings,
        mapping,
        replace(chosen.kind, moved=moved),
        render_details=details_renderer(db, entity),
        in_window=chosen.in_window,
        make_gateway=chosen.make_gateway,
        match_keys=chosen.match_keys,
        forced_directions=chosen.forced_directions,
        rules=tuple(list_rules(db, entity)),
        **common,
    )


def _appointment_parts(
    zone: ZoneInfo, mailbox: str
) -> Callable[[ItemMapping, ZoneInfo], _EntityParts]:
    def parts(mapping: ItemMapping, crm_zone: ZoneInfo) -> _EntityParts:
        codec = CalendarCodec(mapping.fields, zone, mailbox)
        kind = CommunicationKind(
            appointments.COMM_TYPE,
            appointments.COMM_ACTION,
            mapping.fields,
            to_record=lambda row, related: appointments.appointment_record(
                row,
                attendees=related.attendees,
                exceptions=[_occurrence(e, crm_zone) for e in related.exceptions],
                details=related.details,
                crm_zone=crm_zone,
                mapping=mapping,
                owner=mailbox or None,
            ),
            to_columns=lambda record: appointments.appointment_columns(record, crm_zone),
            window=appointment_window,
        )
        return _EntityParts(
            kind,
            lambda account: CalendarGateway(account, account.calendar, codec),
            appointments.in_first_sync_window,
            appointments.appointment_match_keys,
            appointments.FORCED_DIRECTIONS,
        )

    return parts


def _occurrence(row: Communication, crm_zone: ZoneInfo) -> ModifiedOccurrence:
    all_day = row.comm_isalldayevent == FLAG_SET
    original, _ = appointments.times_from_crm(row.comm_originaldatetime, None, all_day, crm_zone)
    start, end = appointments.times_from_crm(
        row.comm_datetime, row.comm_todatetime, all_day, crm_zone
    )
    return ModifiedOccurrence(original, start, end, text(row.comm_subject), text(row.comm_location))


def _task_parts(db: Session, zone: ZoneInfo) -> _PartsFor:
    statuses = StatusMap(get_task_status_mapping(db))

    def parts(mapping: ItemMapping, crm_zone: ZoneInfo) -> _EntityParts:
        codec = TaskCodec(mapping.fields, statuses, zone)
        kind = CommunicationKind(
            tasks.COMM_TYPE,
            tasks.COMM_ACTION,
            mapping.fields,
            to_record=lambda row, related: tasks.task_record(
                row,
                details=related.details,
                statuses=statuses,
                crm_zone=crm_zone,
                user_zone=zone,
                mapping=mapping,
            ),
            to_columns=lambda record: tasks.task_columns(record, crm_zone, zone),
            window=task_window,
        )
        return _EntityParts(
            kind,
            lambda account: (
                account.tasks(GraphTaskCodec(mapping.fields, statuses))
                if isinstance(account, GraphMailbox)
                else TaskGateway(account, account.tasks, codec)
            ),
            tasks.in_first_sync_window,
            tasks.task_match_keys,
            tasks.FORCED_DIRECTIONS,
        )

    return parts
