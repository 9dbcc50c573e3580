"""Time as the CRM stores it (naive, in the CRM server's zone) and as crmsync stores it (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.config import get_settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def crm_now() -> datetime:
    return datetime.now(get_settings().crm_zone).replace(tzinfo=None)
