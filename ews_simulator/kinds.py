"""Per item type rules: the defaults Exchange fills in and the properties it derives."""

from __future__ import annotations

import base64
import email.policy
import email.utils
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, tzinfo
from email.parser import BytesParser

from ews_simulator import calendar
from ews_simulator.items import text_value
from ews_simulator.store import Item, Mailbox, utcnow
from ews_simulator.timezones import zone
from ews_simulator.xml import (
    Element,
    format_bool,
    format_datetime,
    local,
    parse_date,
    parse_datetime,
    t,
)


def _mailbox_element(name: str, address: str, display: str | None = None) -> Element:
    outer = t(name)
    box = t("Mailbox")
    box.append(t("Name", display or address))
    box.append(t("EmailAddress", address))
    box.append(t("RoutingType", "SMTP"))
    box.append(t("MailboxType", "Mailbox"))
    outer.append(box)
    return outer


def _default(item: Item, name: str, value: str) -> None:
    if name not in item.fields:
        item.fields[name] = t(name, value)


def apply_defaults(item: Item, mailbox: Mailbox) -> None:
    """Fill what Exchange fills on save; runs after create and after every update."""
    for att in item.attachments:
        if att.item is not None:
            apply_defaults(att.item, mailbox)
    if item.kind == "Contact":
        _contact_defaults(item)
    elif item.kind == "Task":
        _task_defaults(item)
    elif item.kind == "Message":
        _message_defaults(item, mailbox)
    elif item.kind == "CalendarItem":
        _calendar_defaults(item, mailbox)


def _contact_defaults(item: Item) -> None:
    given, surname = text_value(item, "GivenName"), text_value(item, "Surname")
    full = " ".join(p for p in (given, text_value(item, "MiddleName"), surname) if p)
    if full:
        _default(item, "DisplayName", full)
    if surname and given:
        _default(item, "FileAs", f"{surname}, {given}")
    elif full or "DisplayName" in item.fields:
        _default(item, "FileAs", full or text_value(item, "DisplayName") or "")


def _task_defaults(item: Item) -> None:
    _dates_with_offset(item, UTC)
    _default(item, "Status", "NotStarted")
    _default(item, "PercentComplete", "0")
    status = text_value(item, "Status")
    percent = float(text_value(item, "PercentComplete") or 0)
    # Exchange keeps status and percentage consistent whichever one the client changed.
    if status == "Completed" and percent != 100:
        item.fields["PercentComplete"] = t("PercentComplete", "100")
    elif percent == 100 and status != "Completed":
        item.fields["Status"] = t("Status", "Completed")
    elif status == "NotStarted" and percent != 0:
        item.fields["Status"] = t("Status", "InProgress")
    if text_value(item, "Status") == "Completed":
        _default(item, "CompleteDate", format_datetime(utcnow()))
    else:
        item.fields.pop("CompleteDate", None)


def _message_defaults(item: Item, mailbox: Mailbox) -> None:
    mime = item.fields.get("MimeContent")
    if mime is not None and mime.text:
        _fill_from_mime(item, base64.b64decode(mime.text))
    _default(item, "InternetMessageId", f"<{uuid.uuid4().hex}@ews-simulator>")
    _default(item, "IsRead", "false")
    _default(item, "DateTimeReceived", format_datetime(item.created))
    _default(item, "DateTimeSent", format_datetime(item.created))
    _default(item, "IsDraft", "false")
    if "From" not in item.fields:
        item.fields["From"] = _mailbox_element("From", mailbox.smtp)
    if "Sender" not in item.fields:
        item.fields["Sender"] = _mailbox_element("Sender", mailbox.smtp)


def _fill_from_mime(item: Item, raw: bytes) -> None:
    parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
    if parsed["Subject"] is not None:
        _default(item, "Subject", str(parsed["Subject"]))
    if parsed["Message-ID"] is not None:
        _default(item, "InternetMessageId", str(parsed["Message-ID"]))
    if parsed["Date"] is not None:
        try:
            sent = email.utils.parsedate_to_datetime(str(parsed["Date"]))
            _default(item, "DateTimeSent", format_datetime(sent))
        except (TypeError, ValueError):
            pass
    # Without a Sender header the author is also the sender, as Exchange reports it.
    for header, name in (("From", "From"), ("Sender", "Sender"), ("From", "Sender")):
        addresses = email.utils.getaddresses([str(parsed[header] or "")])
        if addresses and addresses[0][1] and name not in item.fields:
            display, address = addresses[0]
            item.fields[name] = _mailbox_element(name, address, display or None)
    for header, name in (("To", "ToRecipients"), ("Cc", "CcRecipients")):
        addresses = [a for a in email.utils.getaddresses([str(parsed[header] or "")]) if a[1]]
        if addresses and name not in item.fields:
            recipients = t(name)
            for display, address in addresses:
                recipients.append(_mailbox_element("X", address, display or None)[0])
            item.fields[name] = recipients
    body = parsed.get_body(preferencelist=("html", "plain")) if parsed.is_multipart() else parsed
    if body is not None and "Body" not in item.fields:
        content = body.get_content() if body.get_content_maintype() == "text" else ""
        kind = "HTML" if body.get_content_subtype() == "html" else "Text"
        item.fields["Body"] = t("Body", str(content), BodyType=kind)


def _calendar_defaults(item: Item, mailbox: Mailbox) -> None:
    if item.master_id is not None:
        return
    _default(item, "UID", uuid.uuid4().hex.upper())
    _default(item, "IsAllDayEvent", "false")
    _default(item, "LegacyFreeBusyStatus", "Busy")
    has_attendees = any(n in item.fields for n in ("RequiredAttendees", "OptionalAttendees"))
    _default(item, "IsMeeting", format_bool(has_attendees))
    _default(item, "MyResponseType", "Organizer")
    if "Organizer" not in item.fields:
        item.fields["Organizer"] = _mailbox_element("Organizer", mailbox.smtp)
    for name in ("StartTimeZone", "EndTimeZone"):
        if name not in item.fields:
            other = item.fields.get("EndTimeZone" if name == "StartTimeZone" else "StartTimeZone")
            zone_id = other.get("Id") if other is not None else "UTC"
            item.fields[name] = t(name, Id=zone_id or "UTC", Name=zone_id or "UTC")
    tz = zone(item.fields["StartTimeZone"].get("Id"))
    _dates_with_offset(item, tz)
    if text_value(item, "IsAllDayEvent") == "true":
        _at_local_midnights(item, tz)
    calendar.validate(item)


def _at_local_midnights(item: Item, tz: tzinfo) -> None:
    """An all-day item spans whole local days: its start moves back to the midnight that begins
    its day, its end forward to the midnight that ends its day."""
    for name, round_up in (("Start", False), ("End", True)):
        value = text_value(item, name)
        if not value:
            continue
        local_time = parse_datetime(value).astimezone(tz)
        day = local_time.date()
        if round_up and local_time.time() != time():
            day += timedelta(days=1)
        midnight = datetime.combine(day, time(), tzinfo=tz)
        item.fields[name] = t(name, format_datetime(midnight))


def _dates_with_offset(item: Item, tz: tzinfo) -> None:
    """Exchange writes a recurrence's start and end dates with the zone offset of that date."""
    recurrence = item.fields.get("Recurrence")
    for el in recurrence.iter() if recurrence is not None else ():
        if local(el) in ("StartDate", "EndDate") and el.text:
            day = parse_date(el.text)
            offset = datetime.combine(day, time(), tzinfo=tz).utcoffset() or timedelta(0)
            el.text = day.isoformat() + _offset_text(offset)


def _offset_text(offset: timedelta) -> str:
    if not offset:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# Properties each type derives; they are only computed when a response asks for one of them.
DERIVED = {
    "CalendarItem": frozenset(
        {
            "CalendarItemType",
            "IsRecurring",
            "FirstOccurrence",
            "LastOccurrence",
            "ModifiedOccurrences",
            "DeletedOccurrences",
        }
    ),
    "Task": frozenset({"IsComplete"}),
    "Contact": frozenset({"CompleteName"}),
}


def computed(item: Item, mailbox: Mailbox, wants: Callable[[str], bool]) -> dict[str, Element]:
    if not any(wants(name) for name in DERIVED.get(item.kind, ())):
        return {}
    if item.kind == "CalendarItem":
        return calendar.computed(item, mailbox)
    if item.kind == "Task":
        return {
            "IsComplete": t("IsComplete", format_bool(text_value(item, "Status") == "Completed"))
        }
    return _complete_name(item)


def _complete_name(item: Item) -> dict[str, Element]:
    el = t("CompleteName")
    for part, source in (
        ("Title", None),
        ("FirstName", "GivenName"),
        ("MiddleName", "MiddleName"),
        ("LastName", "Surname"),
        ("Suffix", "Generation"),
        ("Initials", "Initials"),
        ("FullName", "DisplayName"),
        ("Nickname", "Nickname"),
    ):
        value = text_value(item, source) if source else None
        if value:
            el.append(t(part, value))
    return {"CompleteName": el} if len(el) else {}
