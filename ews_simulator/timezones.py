"""Windows time zone ids as Exchange knows them, resolved to IANA zones.

The table is CLDR's windowsZones.xml as exchangelib ships it (territory "001" for each Windows
id), plus the few ids Exchange still offers that CLDR dropped.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

# Windows ids Exchange's GetServerTimeZones still lists but CLDR no longer maps.
EXCHANGE_ONLY = {
    # UTC-02:00 "Mid-Atlantic - Old": no daylight saving rule survives in the tz database.
    "Mid-Atlantic Standard Time": "Etc/GMT+2",
    "Kamchatka Standard Time": "Asia/Kamchatka",
}
WINDOWS_TO_IANA: dict[str, str] = {**MS_TIMEZONE_TO_IANA_MAP, **EXCHANGE_ONLY, "UTC": "UTC"}


class UnknownTimeZoneError(ValueError):
    pass


def is_known(windows_id: str) -> bool:
    return windows_id in WINDOWS_TO_IANA


@cache
def zone(windows_id: str | None) -> tzinfo:
    """The zone of a Windows id; stored items with an id Exchange never knew read as UTC."""
    iana = WINDOWS_TO_IANA.get(windows_id or "UTC", "UTC")
    try:
        return ZoneInfo(iana)
    except ZoneInfoNotFoundError:
        return UTC
