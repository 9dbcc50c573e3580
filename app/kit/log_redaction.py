"""Keeps credentials out of log records, whichever library writes them.

exchangelib logs every EWS request's headers at DEBUG, Authorization included (HTTP Basic is
only base64 of "user:password"), and OAuth libraries log the tokens they add. Redacting in the
log record factory catches every logger and every handler, including ones configured later by
Celery, uvicorn or a test; a filter on one logger would miss its children's records.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from typing import Any

REDACTED = "[redacted]"

# "Authorization: Basic abc", "'Authorization': 'Bearer abc'", "authorization=NTLM abc", ...
_AUTHORIZATION = re.compile(
    r"""(?ix)
    ( (?:proxy-)?authorization ['"]? \s* [:=] \s* ['"]? )   # the header name and separator
    ( (?:basic|bearer|ntlm|negotiate|digest) \s+ )?         # the scheme, kept for debugging
    [^\s'",}]+                                               # the credentials
    """
)
# Shorter values would redact ordinary words; no real password or token is this short.
_MIN_SECRET_LENGTH = 6

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def remember_secret(secret: str | None, username: str | None = None) -> None:
    """Redacts this secret from now on; with a username, its HTTP Basic encoding too."""
    if not secret or len(secret) < _MIN_SECRET_LENGTH:
        return
    forms = {secret}
    if username is not None:
        forms.add(base64.b64encode(f"{username}:{secret}".encode()).decode())
    with _secrets_lock:
        _secrets.update(forms)


def redact(text: str) -> str:
    text = _AUTHORIZATION.sub(lambda m: f"{m[1]}{m[2] or ''}{REDACTED}", text)
    with _secrets_lock:
        known = [secret for secret in _secrets if secret in text]
    for secret in known:
        text = text.replace(secret, REDACTED)
    return text


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is the handler's to report
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        # Formatted now, so an exception's message cannot carry a secret past the handlers.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def install() -> None:
    """Wraps the process's log record factory once; later calls change nothing."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts_secrets", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redacted(current(*args, **kwargs))

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
