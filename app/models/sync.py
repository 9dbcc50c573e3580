"""crmsync's own sync tables: users enabled for sync, settings, runs and their log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.kit.clock import utc_now
from app.kit.enums import CaseInsensitiveEnum

# Re-exported: the run records' enums are defined once, beside the sync core's words.
from app.kit.sync_terms import EntryLevel as EntryLevel
from app.kit.sync_terms import RunStatus as RunStatus
from app.models.base import ServiceTable, StrEnumType, UtcDateTime, utc_timestamp_column

if TYPE_CHECKING:
    from app.models.connections import Connection


class AuthType(CaseInsensitiveEnum):
    BASIC = "basic"
    NTLM = "ntlm"
    OAUTH2 = "oauth2"
    NOAUTH = "noauth"


class SyncUser(ServiceTable):
    """A CRM user enabled for synchronization with one Exchange mailbox."""

    __tablename__ = "crmsync_sync_user"
    __table_args__ = (
        CheckConstraint(
            "connection_id IS NOT NULL OR (ews_url IS NOT NULL AND auth_type IS NOT NULL)",
            name="endpoint_known",
        ),
    )

    # users.user_userid; no foreign key, because the CRM may live in another database.
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mailbox: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    # A shared connection (its endpoint and service credentials), or else the user's own
    # endpoint and credentials in the columns below.
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("crmsync_connection.id", ondelete="RESTRICT"), index=True
    )
    # Loaded with the user, in one extra query for however many users were read.
    connection: Mapped[Connection | None] = relationship(lazy="selectin")
    ews_url: Mapped[str | None] = mapped_column(String(2048))
    auth_type: Mapped[AuthType | None] = mapped_column(StrEnumType(AuthType, 16))
    username: Mapped[str | None] = mapped_column(String(320))
    # Password or OAuth2 access token, Fernet-encrypted with CRMSYNC_SECRET_KEY.
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    impersonation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    suspended: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    timezone: Mapped[str | None] = mapped_column(String(64))
    show_install_button: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # When the scheduler next queues the user: a new user is due at once.
    next_sync_at: Mapped[datetime] = mapped_column(
        UtcDateTime, index=True, nullable=False, default=utc_now
    )
    created_at: Mapped[datetime] = utc_timestamp_column()
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )


class SettingsScope(ServiceTable):
    """Sync settings: the global row (scope 'global') and per-user overrides ('user:<id>')."""

    __tablename__ = "crmsync_settings"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )


class SyncRun(ServiceTable):
    __tablename__ = "crmsync_sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_sync_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    )
    status: Mapped[RunStatus] = mapped_column(String(32), nullable=False, index=True)
    trigger: Mapped[str] = mapped_column(String(16), nullable=False, default="manual")
    queued_at: Mapped[datetime] = utc_timestamp_column()
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # {"contacts": {"crm_to_outlook": {"created": 1, ...}, "outlook_to_crm": {...}}, ...}
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    # For a Failed run: "transient" (retried with back-off) or "permanent" (needs an admin).
    failure_kind: Mapped[str | None] = mapped_column(String(16))
    deletions_held: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # While running: {"contacts": {"phase": "applying", "listed": 120, "planned": 8,
    # "applied": 3}, ...}; left as it ended once the run finishes.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Requests sent to Exchange during the run (every pass, every entity).
    ews_requests: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


# Entries an administrator may act on (retry, skip) start "open"; the others only inform.
ACTIONABLE_LEVELS = (EntryLevel.WARNING, EntryLevel.ERROR)
INFORMATIONAL = "informational"


def entry_state(level: EntryLevel) -> str:
    return "open" if level in ACTIONABLE_LEVELS else INFORMATIONAL


class RunEntry(ServiceTable):
    """One item-level line of a run's log, which an administrator can act on."""

    __tablename__ = "crmsync_run_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_sync_run.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[int] = mapped_column(Integer, index=True, nullable=False)
    entity: Mapped[str | None] = mapped_column(String(16), index=True)
    level: Mapped[EntryLevel] = mapped_column(String(8), nullable=False, index=True)
    action: Mapped[str | None] = mapped_column(String(32))
    direction: Mapped[str | None] = mapped_column(String(16))
    crm_id: Mapped[str | None] = mapped_column(String(64))
    remote_id: Mapped[str | None] = mapped_column(String(512))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, nullable=False, index=True
    )


class SyncLink(ServiceTable):
    """A synchronized pair: a CRM record and an Exchange item, with the base of the merge."""

    __tablename__ = "crmsync_sync_link"
    __table_args__ = (
        UniqueConstraint("user_id", "entity", "crm_id"),
        UniqueConstraint("user_id", "entity", "remote_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_sync_user.user_id", ondelete="CASCADE"), nullable=False
    )
    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    crm_id: Mapped[str] = mapped_column(String(64), nullable=False)
    remote_id: Mapped[str] = mapped_column(String(512), nullable=False)
    change_key: Mapped[str | None] = mapped_column(String(512))
    # Canonical field values last synchronized to both sides, in tagged JSON.
    base: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # Values an administrator chose for a conflict: written to both sides on the next run.
    pending: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    held: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    crm_hash: Mapped[str | None] = mapped_column(String(64))
    remote_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )


class FolderState(ServiceTable):
    """Where the last run of a user and entity left off on each side."""

    __tablename__ = "crmsync_folder_state"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_sync_user.user_id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    # EWS SyncFolderItems state; None means the next run compares everything.
    sync_state: Mapped[str | None] = mapped_column(Text)
    # The CRM `_updateddate` high-water mark (naive, CRM time zone) of the last complete run.
    crm_watermark: Mapped[datetime | None] = mapped_column(DateTime)
    # Set by an administrator after the mass-deletion guard held deletions back; used once.
    deletions_confirmed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_full_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )


class ConflictStatus(CaseInsensitiveEnum):
    OPEN = "open"  # held for review: nothing was applied yet
    RECORDED = "recorded"  # decided by policy; the overwritten value can still be re-applied
    RESOLVED = "resolved"  # an administrator chose a side


class SyncConflict(ServiceTable):
    """One field of one item changed on both sides: both values before sync, and the outcome."""

    __tablename__ = "crmsync_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_sync_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crmsync_sync_run.id", ondelete="SET NULL"), index=True
    )
    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    crm_id: Mapped[str] = mapped_column(String(64), nullable=False)
    remote_id: Mapped[str | None] = mapped_column(String(512))
    field: Mapped[str] = mapped_column(String(64), nullable=False)
    # Tagged JSON: {"value": <tagged value>} so that None is distinguishable from missing.
    crm_value: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    outlook_value: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    base_value: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    applied: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_by: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[ConflictStatus] = mapped_column(String(16), nullable=False, index=True)
    created_at: Mapped[datetime] = utc_timestamp_column()
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnlinkedCompanyName(ServiceTable):
    """A company name from Outlook that matches no CRM company and was not created.

    Sage CRM can only link a person to a company row; keeping the name here means it neither
    vanishes from the user's Outlook nor looks like a CRM-side change on every run.
    """

    __tablename__ = "crmsync_unlinked_company"

    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )


class SkippedItem(ServiceTable):
    """An item an administrator chose to skip from a log entry: runs leave it alone."""

    __tablename__ = "crmsync_skipped_item"
    __table_args__ = (UniqueConstraint("user_id", "entity", "crm_id", "remote_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_sync_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    )
    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    crm_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    remote_id: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    created_at: Mapped[datetime] = utc_timestamp_column()


class ItemFailure(ServiceTable):
    """An item a run could not read: retried with back-off, then held for an administrator.

    One side's id is set (`crm_id` or `remote_id`), the other is "".
    """

    __tablename__ = "crmsync_item_failure"
    __table_args__ = (UniqueConstraint("user_id", "entity", "crm_id", "remote_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_sync_user.user_id", ondelete="CASCADE"), index=True, nullable=False
    )
    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    crm_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    remote_id: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    retry_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    held: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Alert(ServiceTable):
    """Something an administrator must act on, e.g. a user's sync suspended after failures."""

    __tablename__ = "crmsync_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("crmsync_sync_user.user_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = utc_timestamp_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
