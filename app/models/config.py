"""Sync configuration an administrator edits: field mappings, details templates, exclusions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utc_now
from app.models.base import ServiceTable, UtcDateTime, utc_timestamp_column


class MappingDocument(ServiceTable):
    """A mapping an administrator changed: 'contacts', 'appointments', 'tasks', 'task-status'.

    A missing row means the built-in default applies, so defaults can evolve between releases.
    """

    __tablename__ = "crmsync_mapping"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    document: Mapped[Any] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )


class DetailsTemplate(ServiceTable):
    """The Jinja2 template of the details added to items sent to Outlook; missing = default."""

    __tablename__ = "crmsync_details_template"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    template: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )


class Exclusion(ServiceTable):
    """A rule that keeps matching CRM records from being sent to Outlook."""

    __tablename__ = "crmsync_exclusion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    field: Mapped[str] = mapped_column(String(64), nullable=False)
    operator: Mapped[str] = mapped_column(String(16), nullable=False)
    # A string, a list of strings (operator 'in'), or None (is_empty / is_not_empty).
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = utc_timestamp_column()
