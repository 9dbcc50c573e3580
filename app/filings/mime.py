"""Emails as the CRM files them: parsed from RFC 5322 bytes or an Outlook .msg file.

Parsing uses the standard library (policy.default) and is lenient the way mail clients are:
missing headers, wrong or unknown charsets and odd encodings still give a usable email. What
cannot be read at all (no headers, a multipart without its boundary) is refused with a reason,
and so are MIME bombs: the standard parser is slow on many parts and deep nesting (about a
millisecond per part, quadratic in depth), so both are counted in the raw bytes before parsing.

The HTML body is sanitized with nh3: scripts, styles, event handlers, forms, frames and every
remote load are removed (`style` attributes go entirely, so CSS cannot fetch either). Images
keep only `cid:` sources, which name attachments of the same email, stored alongside it in the
library; remote and `data:` images lose their source and show their alt text. Links stay: a
click is not a load.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import (
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import PurePosixPath, PureWindowsPath

import nh3

from app.filings.outlook import UnreadableOutlookFile, is_outlook_msg, msg_to_mime

_CONTENT_TYPE_LINE = re.compile(rb"^content-type:", re.IGNORECASE | re.MULTILINE)
_BOUNDARY = re.compile(rb"boundary\s*=", re.IGNORECASE)
# A header field name, or the "From " separator line mbox exports begin with.
_FIRST_LINE = re.compile(rb"^(?:[!-9;-~]+:|From )")
_MESSAGE_ID_LIMIT = 998
_FREE_TEXT_CHARSETS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1"}
_BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "table", "ul", "ol", "hr", "dt", "dd",
}  # fmt: skip


class UnreadableEmail(ValueError):
    """The bytes are not an email the CRM can file; the message says why."""


@dataclass(frozen=True)
class MimeLimits:
    max_parts: int = 500
    max_multiparts: int = 50
    max_depth: int = 20


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def formatted(self) -> str:
        if not self.name:
            return self.email
        needs_quotes = any(c in self.name for c in '",;<>@()[]:\\')
        name = '"' + self.name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name if needs_quotes else self.name} <{self.email}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    # Set for inline parts (e.g. images an HTML body shows through cid: URLs).
    content_id: str | None


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    # SHA-256 of the bytes the email was read from: its identity when it has no Message-ID.
    content_sha256: str
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    sent_at: datetime | None
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]

    @property
    def identity(self) -> str:
        """What comm_messageid records: the Message-ID, or `<sha256:…>` of the content."""
        if self.message_id and len(self.message_id) <= _MESSAGE_ID_LIMIT:
            return self.message_id
        return f"<sha256:{self.content_sha256}>"

    @property
    def correspondents(self) -> tuple[Address, ...]:
        return (*((self.sender,) if self.sender else ()), *self.to, *self.cc, *self.bcc)


def read_email(raw: bytes, limits: MimeLimits | None = None) -> ParsedEmail:
    """An uploaded file: an Outlook .msg (told by its signature) or RFC 5322 bytes."""
    if is_outlook_msg(raw):
        try:
            converted = msg_to_mime(raw)
        except UnreadableOutlookFile as exc:
            raise UnreadableEmail(str(exc)) from None
        return parse_mime(converted, limits, content_sha256=_sha256(raw))
    return parse_mime(raw, limits)


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _check_bomb(raw: bytes, limits: MimeLimits) -> None:
    parts = len(_CONTENT_TYPE_LINE.findall(raw))
    if parts > limits.max_parts:
        raise UnreadableEmail(f"has {parts} MIME parts; at most {limits.max_parts} are accepted")
    multiparts = len(_BOUNDARY.findall(raw))
    if multiparts > limits.max_multiparts:
        raise UnreadableEmail(
            f"has {multiparts} multipart containers; at most {limits.max_multiparts} are accepted"
        )


def parse_mime(
    raw: bytes, limits: MimeLimits | None = None, *, content_sha256: str | None = None
) -> ParsedEmail:
    limits = limits or MimeLimits()
    if not raw.strip():
        raise UnreadableEmail("is empty")
    if not _FIRST_LINE.match(raw.lstrip()):
        raise UnreadableEmail("does not start with RFC 5322 header fields")
    _check_bomb(raw, limits)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    # A single-part email that is not text (a bare PDF, say) is kept as its own attachment.
    parts = list(_walk(message, limits.max_depth)) if message.is_multipart() else [message]
    _check_defects(message)
    html_part, text_part = _body_parts(message)
    html = _sanitized_html(_decoded_text(html_part)) if html_part is not None else None
    if text_part is not None:
        text = _decoded_text(text_part)
    else:
        text = html_to_text(html) if html is not None else ""
    attachments = tuple(_attachments(message, parts, html_part, text_part, limits, depth=0))
    return ParsedEmail(
        message_id=_message_id(message),
        content_sha256=content_sha256 or _sha256(raw),
        subject=_header_text(message, "Subject"),
        sender=next(iter(_addresses(message, "From")), None),
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        bcc=_addresses(message, "Bcc"),
        sent_at=_sent_at(message),
        text=text,
        html=html,
        attachments=attachments,
    )


def _attachments(
    message: Message,
    parts: Sequence[Message],
    html_part: Message | None,
    text_part: Message | None,
    limits: MimeLimits,
    depth: int,
) -> Iterator[Attachment]:
    """The files of an email; an attached email is one file (.eml), followed by its own files,
    as Outlook lists them when the attached email is opened."""
    bodies = {id(html_part), id(text_part)}
    for number, part in enumerate(parts, start=1):
        if id(part) in bodies or not _is_leaf(part):
            continue
        yield _attachment(part, number)
        inner = _forwarded_message(part) if part.get_content_type() == "message/rfc822" else None
        if inner is None:
            continue
        if depth >= limits.max_depth:
            raise UnreadableEmail(f"nests attached emails deeper than {limits.max_depth} levels")
        inner_parts = list(_walk(inner, limits.max_depth)) if inner.is_multipart() else [inner]
        assert isinstance(inner, EmailMessage)
        inner_html, inner_text = _body_parts(inner)
        yield from _attachments(inner, inner_parts, inner_html, inner_text, limits, depth + 1)


def _is_leaf(part: Message) -> bool:
    return not part.is_multipart() or part.get_content_type() == "message/rfc822"


def _check_defects(part: Message) -> None:
    for defect in part.defects:
        if isinstance(defect, NoBoundaryInMultipartDefect | StartBoundaryNotFoundDefect):
            raise UnreadableEmail(
                f"malformed MIME: a {part.get_content_type()} part lacks its boundary "
                f"({type(defect).__name__})"
            )
        if isinstance(defect, MultipartInvariantViolationDefect):
            raise UnreadableEmail(f"malformed MIME: {defect}")


def _walk(message: Message, max_depth: int) -> Iterator[Message]:
    """Every part below the top, depth first; a forwarded message (message/rfc822) is one part,
    kept whole as an attachment rather than opened."""
    pending: list[tuple[Message, int]] = [(message, 0)]
    while pending:
        part, depth = pending.pop()
        if depth > max_depth:
            raise UnreadableEmail(f"nests MIME parts deeper than {max_depth} levels")
        _check_defects(part)
        if part is not message:
            yield part
        if not _is_leaf(part):
            children = part.get_payload()
            assert isinstance(children, list)
            pending.extend(
                (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
            )


def _body_parts(message: EmailMessage) -> tuple[Message | None, Message | None]:
    if not message.is_multipart():
        # A single-part email is its body, whatever its disposition claims.
        kind = message.get_content_type()
        if kind == "text/html":
            return message, None
        return None, message if message.get_content_maintype() == "text" else None
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    return html, text


def _charset_candidates(part: Message) -> Iterator[str]:
    declared = (part.get_content_charset() or "").lower()
    # Mail labelled Latin-1 or ASCII is in practice Windows-1252 (smart quotes, euro sign), as
    # the WHATWG encoding standard has browsers read it.
    if declared in _FREE_TEXT_CHARSETS:
        yield "windows-1252"
    elif declared:
        yield declared
    yield "utf-8"


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    raw = payload if isinstance(payload, bytes) else b""
    for charset in _charset_candidates(part):
        try:
            return _unix_newlines(raw.decode(charset))
        except (LookupError, UnicodeDecodeError):
            continue
    return _unix_newlines(raw.decode("windows-1252", errors="replace"))


def _unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n")


def _header_text(message: Message, name: str) -> str:
    """A header decoded from RFC 2047 or from raw 8-bit bytes (UTF-8, else Windows-1252, as
    mail clients guess); what cannot be decoded keeps replacement characters."""
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return ""
    if any("\udc80" <= c <= "\udcff" for c in raw):
        # 8-bit bytes sent without encoding; the parser kept them as surrogate escapes.
        text = _decoded_bytes(raw.encode("ascii", "surrogateescape"))
    else:
        try:
            text = str(message.get(name))
        except (LookupError, ValueError, IndexError, AttributeError):
            text = _decoded_words(raw)
    return " ".join(text.split())


def _decoded_bytes(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("windows-1252", errors="replace")


def _decoded_words(raw: str) -> str:
    """RFC 2047 words one by one: the fallback for a header the policy's parser chokes on."""
    try:
        return str(make_header(decode_header(raw)))
    except (LookupError, ValueError, UnicodeError):
        return raw.encode("ascii", "replace").decode("ascii")


def _addresses(message: Message, name: str) -> tuple[Address, ...]:
    values = [_header_text(message, name)] if message.get_all(name) else []
    found = []
    for display, address in getaddresses(values):
        if "@" in address:
            found.append(Address(name=display.strip(), email=address.strip()))
    return tuple(found)


def _message_id(message: Message) -> str | None:
    value = _header_text(message, "Message-ID")
    return value or None


def _sent_at(message: Message) -> datetime | None:
    value = _header_text(message, "Date")
    if not value:
        return None
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 5322's -0000 means "UTC, zone unknown"; parsedate_to_datetime leaves it naive.
    return sent.replace(tzinfo=UTC) if sent.tzinfo is None else sent


def _attachment(part: Message, number: int) -> Attachment:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        content = _forwarded_bytes(part)
        subject = _forwarded_subject(part)
        default_name = f"{subject or 'forwarded message'}.eml"
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        extension = mimetypes.guess_extension(content_type) or ".bin"
        default_name = f"part-{number}{extension}"
    content_id = part.get("Content-ID")
    return Attachment(
        filename=safe_filename(_filename(part)) or safe_filename(default_name) or "attachment",
        content_type=content_type,
        content=content,
        content_id=str(content_id).strip().strip("<>") if content_id else None,
    )


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (LookupError, ValueError):
        return None


def _forwarded_message(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return None


def _forwarded_subject(part: Message) -> str:
    inner = _forwarded_message(part)
    return _header_text(inner, "Subject") if inner is not None else ""


def _forwarded_bytes(part: Message) -> bytes:
    inner = _forwarded_message(part)
    if inner is None:
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""
    return inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 255 characters."""
    if not name:
        return ""
    base = PureWindowsPath(PurePosixPath(name).name).name
    cleaned = "".join(c for c in base if c.isprintable()).strip().strip(".")
    return cleaned[-255:]


def _keep_only_inline_images(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not value.lower().startswith("cid:"):
        return None
    return value


def _sanitized_html(html: str) -> str:
    return nh3.clean(
        html,
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=_keep_only_inline_images,
        clean_content_tags={"script", "style", "title"},
        link_rel="noopener noreferrer",
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        self.chunks.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of (sanitized) HTML: block elements become line breaks."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.chunks).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
