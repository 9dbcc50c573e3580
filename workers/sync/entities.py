"""What differs between the synchronized entities: folders, codecs, CRM sides and policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.mappings.service import get_mapping
from app.sync_settings.schemas import EffectiveSettings, SyncEntity
from workers.exchange.contacts import ContactCodec
from workers.exchange.folder import ItemCodec
from workers.sync.contacts import ContactMapping, FieldPair, contact_match_keys
from workers.sync.crm_contacts import CrmContacts, CrmListing
from workers.sync.planner import (
    ConflictPolicy,
    CrmItem,
    Direction,
    EntityPolicy,
    MatchKeys,
    OutlookDeleteMode,
)
from workers.sync.records import Record


class CrmSource(Protocol):
    """The CRM side of one entity: the engine's CrmSide plus listing changes."""

    def list_changes(self, watermark: datetime | None, linked_ids: set[str]) -> CrmListing: ...

    def fetch(self, crm_ids: list[str]) -> dict[str, CrmItem | None]: ...

    def create(self, record: Record, replaces: str | None) -> str: ...

    def update(self, crm_id: str, changes: Record) -> None: ...

    def delete(self, crm_id: str, mode: OutlookDeleteMode) -> None: ...


class EntitySource(Protocol):
    @property
    def user_id(self) -> int: ...

    @property
    def entity(self) -> str: ...

    def folder(self, account: Any) -> Any: ...

    def codec(self) -> ItemCodec: ...

    def crm_side(self, db: Session) -> CrmSource: ...

    def policy(self, *, deletions_confirmed: bool) -> EntityPolicy: ...


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
        direction=Direction(chosen.direction.value),
        conflict_policy=ConflictPolicy(chosen.conflict_policy.value),
        on_outlook_delete=OutlookDeleteMode(chosen.on_outlook_delete.value),
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

    def folder(self, account: Any) -> Any:
        return account.contacts

    def codec(self) -> ItemCodec:
        return ContactCodec(self.mapping.outlook_fields)

    def crm_side(self, db: Session) -> CrmSource:
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
            FieldPair(row.crm, row.outlook, Direction(row.direction.value))
            for row in get_mapping(db, SyncEntity.CONTACTS)
        )
        sources.append(ContactSource(user_id, settings, ContactMapping(pairs)))
    return sources
