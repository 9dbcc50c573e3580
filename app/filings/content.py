"""An email's content as hashes: a normalized body and its attachments.

A second filing under a known Message-ID joins the stored communication only when both hashes
match; different content under the same Message-ID (a forged or reused one) becomes a
communication of its own, never merged into another user's.

Normalization forgives what transport and storage change — line endings, trailing spaces,
blank lines at either end — and nothing a reader would see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from app.filings.mime import ParsedEmail


@dataclass(frozen=True)
class ContentHashes:
    body_sha256: str
    attachments_sha256: str


def _normalized(text: str | None) -> str:
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def hashes(text: str | None, html: str | None, attachment_sha256s: Iterable[str]) -> ContentHashes:
    body = f"{_normalized(text)}\0{_normalized(html)}"
    attachments = "\n".join(sorted(attachment_sha256s))
    return ContentHashes(
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        attachments_sha256=hashlib.sha256(attachments.encode()).hexdigest(),
    )


def of_email(parsed: ParsedEmail) -> ContentHashes:
    return hashes(
        parsed.text,
        parsed.html,
        (hashlib.sha256(attachment.content).hexdigest() for attachment in parsed.attachments),
    )
