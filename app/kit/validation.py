"""Value checks shared by request schemas and the CLI."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SMTP_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]{2,}$")


def smtp_address(value: str) -> str:
    value = value.strip()
    if not _SMTP_ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an SMTP address such as jane@example.com")
    return value.lower()


def http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value.strip()


def iana_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London") from None
    return value
