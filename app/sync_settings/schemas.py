"""Sync settings: global values, per-user overrides, and the fully resolved settings.

The enums' values are a contract with the workers, which hold identical enums and convert by
value.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.kit.sync_policy import ConflictPolicy, Direction, OutlookDeleteMode
from app.kit.sync_terms import EntryLevel
from app.kit.sync_terms import SyncEntity as SyncEntity  # the settings API's path words
from app.users.schemas import TimeZoneName

IntervalMinutes = Annotated[int, Field(ge=1, le=1440)]
FirstSyncDays = Annotated[int, Field(ge=0, le=365)]
MassDeleteShare = Annotated[float, Field(gt=0, le=1, description="share of linked items")]
MassDeleteMinimum = Annotated[int, Field(ge=0)]
RetentionDays = Annotated[int, Field(ge=1, le=3650)]


class EntitySettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    enabled: bool
    direction: Direction
    on_outlook_delete: OutlookDeleteMode
    conflict_policy: ConflictPolicy


class EffectiveSettings(BaseModel):
    """Settings fully resolved for one user (or globally): defaults < global < user overrides."""

    model_config = ConfigDict(frozen=True)

    contacts: EntitySettings
    appointments: EntitySettings
    tasks: EntitySettings
    interval_minutes: IntervalMinutes
    auto_sync: bool = Field(description="whether automatic synchronization runs at all")
    first_sync_days: FirstSyncDays
    mass_delete_threshold: MassDeleteShare
    mass_delete_minimum: MassDeleteMinimum
    sync_private: bool
    log_level: EntryLevel
    log_retention_days: RetentionDays
    crm_timezone: TimeZoneName
    create_unknown_companies: bool

    def for_entity(self, entity: SyncEntity) -> EntitySettings:
        settings: EntitySettings = getattr(self, entity.value)
        return settings


class EntitySettingsPatch(BaseModel):
    """Explicitly set values of one entity; a null (or absent) field inherits."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    direction: Direction | None = None
    on_outlook_delete: OutlookDeleteMode | None = None
    conflict_policy: ConflictPolicy | None = None


class ItemSettingsPatch(EntitySettingsPatch):
    """Appointments and tasks: there is no flag to remove, so `unflag` does not apply."""

    @field_validator("on_outlook_delete")
    @classmethod
    def _no_unflag(cls, value: OutlookDeleteMode | None) -> OutlookDeleteMode | None:
        if value is OutlookDeleteMode.UNFLAG:
            raise ValueError("'unflag' applies only to contacts; use 'delete' or 'unlink'")
        return value


class SettingsPatch(BaseModel):
    """A PUT body: the fields it names are set; a null returns the field to inheriting."""

    model_config = ConfigDict(extra="forbid")

    contacts: EntitySettingsPatch | None = None
    appointments: ItemSettingsPatch | None = None
    tasks: ItemSettingsPatch | None = None
    interval_minutes: IntervalMinutes | None = None
    auto_sync: bool | None = None
    first_sync_days: FirstSyncDays | None = None
    mass_delete_threshold: MassDeleteShare | None = None
    mass_delete_minimum: MassDeleteMinimum | None = None
    sync_private: bool | None = None
    log_level: EntryLevel | None = None
    log_retention_days: RetentionDays | None = None
    crm_timezone: TimeZoneName | None = None
    create_unknown_companies: bool | None = None


class UserSettingsRead(BaseModel):
    user_id: int
    overrides: SettingsPatch = Field(description="the user's own values; null inherits")
    effective: EffectiveSettings = Field(description="what synchronization of this user uses")
