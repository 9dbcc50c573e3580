"""Contact imports: one row per import job and one report line per contact row of its file."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.enums import CaseInsensitiveEnum
from app.models.base import ServiceTable, UtcDateTime, utc_timestamp_column


class ImportStatus(CaseInsensitiveEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportFormat(StrEnum):
    CSV = "csv"
    VCARD = "vcard"


class RowOutcome(StrEnum):
    IMPORTED = "imported"
    NEW = "new"  # a dry run's verdict for a row that would be imported
    DUPLICATE = "duplicate"
    INVALID = "invalid"


class ContactImport(ServiceTable):
    """A file of contacts being imported into the CRM, with its progress and outcome counts."""

    __tablename__ = "crmsync_contact_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[ImportStatus] = mapped_column(String(16), nullable=False, index=True)
    format: Mapped[ImportFormat] = mapped_column(String(8), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    # Absolute: the API's uploads live in the data directory, the CLI reads the file in place.
    file_path: Mapped[str] = mapped_column(String(1024), nullable=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    create_companies: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # users.user_userid the imported persons are flagged for; no foreign key (the CRM may live
    # in another database).
    user_id: Mapped[int | None] = mapped_column(Integer)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    # Rows whose outcome is committed; a re-delivered job resumes after them.
    rows_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # {"imported": n, "duplicate": n, "invalid": n} ("new" instead of "imported" in a dry run)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = utc_timestamp_column()
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ContactImportRow(ServiceTable):
    """The outcome of one contact row; a table rather than a file so that it commits together
    with the persons of its batch, and so that the report streams in pages."""

    __tablename__ = "crmsync_contact_import_row"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("crmsync_contact_import.id", ondelete="CASCADE"), primary_key=True
    )
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    outcome: Mapped[RowOutcome] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    # The person created, or the existing person a duplicate matched.
    person_id: Mapped[int | None] = mapped_column(Integer)
    contact: Mapped[str | None] = mapped_column(String(255))
