"""Signed, short-lived links to download the add-in manifest.

Outlook's "Add from URL" fetches a manifest without sending any header, so the download cannot
carry a bearer token. Rather than accept the API token itself in the query string, where it
would outlive the download in proxy logs, browser history and Outlook's add-in records, GET
/api/v1/addin hands out a link signed with the service's secret: it names whose offer it is,
expires after an hour and grants nothing but the manifest.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from app.kit.errors import Unauthorized

LINK_LIFETIME = timedelta(hours=1)
# Who a link is for: a user id, or an admin key (centralized deployment of the add-in).
ADMIN_SUBJECT = "admin"


def _signature(secret_key: str, payload: str) -> str:
    key = hashlib.sha256(f"crmsync add-in manifest links:{secret_key}".encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def sign(secret_key: str, subject: str, now: datetime) -> str:
    payload = f"{subject}.{int((now + LINK_LIFETIME).timestamp())}"
    return f"{payload}.{_signature(secret_key, payload)}"


def verify(secret_key: str, link: str, now: datetime) -> str:
    """The subject of a genuine, unexpired link."""
    payload, _, signature = link.rpartition(".")
    subject, _, expires = payload.partition(".")
    # As bytes: compare_digest refuses str with non-ASCII characters, which a link may carry.
    genuine = hmac.compare_digest(signature.encode(), _signature(secret_key, payload).encode())
    if not genuine or not expires:
        raise Unauthorized("this manifest link is not one crmsync signed; get a new one")
    if int(expires) < now.timestamp():
        raise Unauthorized("this manifest link has expired; get a new one from GET /api/v1/addin")
    return subject
