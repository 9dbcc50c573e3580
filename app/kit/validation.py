"""Value checks shared by request schemas and the CLI."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Interval
from pydantic import AfterValidator

# Ids are the databases' INTEGER columns (PostgreSQL's int4, as in Sage CRM). A larger number
# names no row; SQLite would even fail on one past 2^63 (OverflowError, a 500). Checked at the
# edge, in paths, queries and bodies, so the 422 names the parameter.
MAX_ID = 2**31 - 1
DbId = Annotated[int, Interval(ge=1, le=MAX_ID)]

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


def user_ref(value: str) -> str:
    """A path's user: `me` or a user id (anything else is a user that does not exist)."""
    try:
        number = int(value)
    except ValueError:
        return value
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"user ids are 1 to {MAX_ID} (or 'me')")
    return value


UserRef = Annotated[str, AfterValidator(user_ref)]
