"""The CRM server's time zone, as the global sync setting `crm_timezone` says.

It is the one source for converting CRM times and for stamping CRM audit columns
(`…_createddate`, `…_updateddate`), so the two can never disagree. The environment variable
CRMSYNC_CRM_TIMEZONE only seeds the setting when the database is created (migration 0010).

Stamping happens deep inside flushes, many times a run, so the zone is cached for a short
while; a change made through this process is seen at once, one made elsewhere (the API while a
worker runs) within `CACHE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from zoneinfo import ZoneInfo

from sqlalchemy import select

CACHE_SECONDS = 30.0
DEFAULT_CRM_TIMEZONE = "UTC"
GLOBAL_SCOPE = "global"


class _CachedZone:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zone: ZoneInfo | None = None
        self._read_at = float("-inf")

    def get(self) -> ZoneInfo:
        with self._lock:
            if self._zone is None or time.monotonic() - self._read_at >= CACHE_SECONDS:
                self._zone = ZoneInfo(_stored_zone_name())
                self._read_at = time.monotonic()
            return self._zone

    def forget(self) -> None:
        with self._lock:
            self._zone = None


def _stored_zone_name() -> str:
    # Imported here: the models' audit columns call crm_now(), which lands here.
    from app.db import get_database
    from app.models.sync import SettingsScope

    with get_database().session_factory() as db:
        values = db.scalar(select(SettingsScope.values).where(SettingsScope.scope == GLOBAL_SCOPE))
    return str((values or {}).get("crm_timezone") or DEFAULT_CRM_TIMEZONE)


_cached = _CachedZone()


def crm_zone() -> ZoneInfo:
    return _cached.get()


def forget_crm_zone() -> None:
    """Called when the setting changes, so this process stamps with the new zone at once."""
    _cached.forget()
