"""Time as the CRM stores it (naive, in the CRM server's zone) and as crmsync stores it (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def crm_now() -> datetime:
    """Now, naive, in the CRM server's zone (the `crm_timezone` sync setting)."""
    # Imported here: the models import this module, and the setting is read through them.
    from app.sync_settings.crm_zone import crm_zone

    return datetime.now(crm_zone()).replace(tzinfo=None)
