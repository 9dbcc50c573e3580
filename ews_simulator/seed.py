"""Deterministic generated mailbox content for tests, demos and benchmarks.

Items are built as the XML a client would send and go through the same code path as CreateItem,
so seeded items behave exactly like created ones. The same seed yields the same content.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from ews_simulator import calendar
from ews_simulator.operations.items import new_item
from ews_simulator.store import Item, Mailbox
from ews_simulator.xml import Element, format_datetime, t

GIVEN = ("Anna", "Bernd", "Clara", "David", "Eva", "Felix", "Greta", "Hans", "Ida", "Jonas")
SURNAMES = ("Meyer", "Schulz", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch")
COMPANIES = ("Acme GmbH", "Globex AG", "Initech", "Umbrella KG", "Stark Industries")
CITIES = ("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt")
# Fixed so that the same seed gives the same calendar whatever the day.
EPOCH = datetime(2025, 1, 6, tzinfo=UTC)
ZONE = "W. Europe Standard Time"


def _el(name: str, children: list[Element] | None = None, **attrs: str) -> Element:
    el = t(name, **attrs)
    for child in children or ():
        el.append(child)
    return el


def _contact(rng: random.Random, n: int) -> Element:
    given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
    email = f"{given}.{surname}{n}@example.org".lower()
    return _el(
        "Contact",
        [
            t("Subject", f"{given} {surname}"),
            t("DisplayName", f"{given} {surname}"),
            t("GivenName", given),
            t("CompanyName", rng.choice(COMPANIES)),
            _el("EmailAddresses", [t("Entry", email, Key="EmailAddress1")]),
            _el(
                "PhysicalAddresses",
                [
                    _el(
                        "Entry",
                        [
                            t("Street", f"Hauptstr. {rng.randint(1, 200)}"),
                            t("City", rng.choice(CITIES)),
                        ],
                        Key="Business",
                    )
                ],
            ),
            _el(
                "PhoneNumbers",
                [t("Entry", f"+49 30 {rng.randint(100000, 999999)}", Key="BusinessPhone")],
            ),
            t("JobTitle", rng.choice(("Sales", "Engineer", "CEO", "Buyer"))),
            t("Surname", surname),
        ],
    )


def _appointment(rng: random.Random, n: int, recurrence: Element | None = None) -> Element:
    start = EPOCH + timedelta(days=rng.randint(0, 60), hours=rng.randint(7, 16))
    end = start + timedelta(minutes=rng.choice((30, 60, 90)))
    children = [
        t("Subject", f"Meeting {n}"),
        t("Body", f"Agenda for meeting {n}", BodyType="Text"),
        t("Start", format_datetime(start)),
        t("End", format_datetime(end)),
        t("Location", rng.choice(CITIES)),
    ]
    if recurrence is not None:
        children.append(recurrence)
    children += [t("StartTimeZone", Id=ZONE), t("EndTimeZone", Id=ZONE)]
    return _el("CalendarItem", children)


def _weekly(start: datetime) -> Element:
    pattern = _el(
        "WeeklyRecurrence",
        [t("Interval", "1"), t("DaysOfWeek", start.strftime("%A")), t("FirstDayOfWeek", "Monday")],
    )
    rng = _el(
        "NumberedRecurrence",
        [t("StartDate", start.date().isoformat()), t("NumberOfOccurrences", "10")],
    )
    return _el("Recurrence", [pattern, rng])


def _task(rng: random.Random, n: int) -> Element:
    status = rng.choice(("NotStarted", "InProgress", "Completed", "WaitingOnOthers"))
    due = EPOCH + timedelta(days=rng.randint(1, 90))
    return _el(
        "Task",
        [
            t("Subject", f"Task {n}"),
            t("Importance", rng.choice(("Low", "Normal", "High"))),
            t("DueDate", format_datetime(due)),
            t("PercentComplete", "50" if status == "InProgress" else "0"),
            t("StartDate", format_datetime(due - timedelta(days=7))),
            t("Status", status),
        ],
    )


def _message(rng: random.Random, n: int, owner: str) -> Element:
    sender = f"{rng.choice(GIVEN)}.{rng.choice(SURNAMES)}@example.org".lower()
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = owner
    mime["Subject"] = f"Message {n}"
    mime["Message-ID"] = f"<seed-{n}-{rng.randint(0, 10**9)}@example.org>"
    mime["Date"] = (EPOCH + timedelta(hours=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    mime.set_content(f"Hello, this is message {n}.")
    return _el(
        "Message",
        [
            t("MimeContent", base64.b64encode(mime.as_bytes()).decode(), CharacterSet="UTF-8"),
            t("IsRead", "true" if rng.random() < 0.5 else "false"),
        ],
    )


def seed_mailbox(mailbox: Mailbox, spec: dict[str, int]) -> dict[str, int]:
    rng = random.Random(spec.get("seed", 1))
    created: dict[str, int] = {}

    def add(folder: str, el: Element) -> Item:
        item = new_item(mailbox, el, mailbox.distinguished[folder])
        mailbox.add_item(item)
        return item

    for n in range(spec.get("contacts", 0)):
        add("contacts", _contact(rng, n))
    for n in range(spec.get("appointments", 0)):
        add("calendar", _appointment(rng, n))
    for n in range(spec.get("recurring", 0)):
        first = EPOCH + timedelta(days=rng.randint(0, 6), hours=rng.randint(8, 15))
        el = _appointment(rng, n)
        for child in el:
            if child.tag.endswith("}Start"):
                child.text = format_datetime(first)
            elif child.tag.endswith("}End"):
                child.text = format_datetime(first + timedelta(hours=1))
        el.insert(5, _weekly(first))
        master = add("calendar", el)
        # Every generated series has one moved occurrence and one cancelled occurrence.
        exception = calendar.make_exception(master, 2)
        exception.fields["Subject"] = t("Subject", f"Meeting {n} (moved)")
        moved = first + timedelta(weeks=1, hours=2)
        exception.fields["Start"] = t("Start", format_datetime(moved))
        exception.fields["End"] = t("End", format_datetime(moved + timedelta(hours=1)))
        master.deleted_occurrences.add(3)
        mailbox.updated(master)
    for n in range(spec.get("tasks", 0)):
        add("tasks", _task(rng, n))
    for n in range(spec.get("messages", 0)):
        add("inbox", _message(rng, n, mailbox.smtp))
    for key in ("contacts", "appointments", "recurring", "tasks", "messages"):
        created[key] = spec.get(key, 0)
    return created
