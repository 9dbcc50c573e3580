"""Generated mailbox content for tests, demos and benchmarks: the same for the same seed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from graph_simulator.calendar import seed_events
from graph_simulator.mail import message_fields
from graph_simulator.store import Mailbox

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
SEEDABLE = frozenset({"contacts", "appointments", "recurring", "tasks", "messages", "seed"})


def seed_mailbox(mailbox: Mailbox, counts: dict[str, int]) -> dict[str, int]:
    unknown = set(counts) - SEEDABLE
    if unknown:
        raise ValueError(f"unknown seed counts {sorted(unknown)}; use {sorted(SEEDABLE)}")
    rng = random.Random(counts.get("seed", 1))
    created = {
        "contacts": _contacts(mailbox, rng, counts.get("contacts", 0)),
        "tasks": _tasks(mailbox, rng, counts.get("tasks", 0)),
        "messages": _messages(mailbox, rng, counts.get("messages", 0)),
    }
    created.update(
        seed_events(mailbox, rng, counts.get("appointments", 0), counts.get("recurring", 0))
    )
    return created


def _person(rng: random.Random, n: int) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{n}"
    return first, last, f"{first}.{last}@example.org".lower()


def _contacts(mailbox: Mailbox, rng: random.Random, count: int) -> int:
    for n in range(count):
        first, last, address = _person(rng, n)
        data: dict[str, Any] = {
            "givenName": first,
            "surname": last,
            "displayName": f"{first} {last}",
            "companyName": rng.choice(["Contoso", "Fabrikam", "Northwind", ""]) or None,
            "emailAddresses": [{"name": f"{first} {last}", "address": address}],
            "businessPhones": [f"+44 20 7946 {rng.randint(1000, 9999)}"],
        }
        mailbox.add(mailbox.contacts, data, "contact")
    return count


def _tasks(mailbox: Mailbox, rng: random.Random, count: int) -> int:
    default = next(f for f in mailbox.todo_lists.values() if f.well_known == "defaultList")
    today = datetime.now(UTC).date()
    for n in range(count):
        due = today + timedelta(days=rng.randint(-10, 30))
        data: dict[str, Any] = {
            "title": f"Follow up {n}",
            "status": rng.choice(["notStarted", "inProgress", "completed"]),
            "importance": rng.choice(["low", "normal", "high"]),
            "dueDateTime": {"dateTime": f"{due.isoformat()}T00:00:00.0000000", "timeZone": "UTC"},
        }
        mailbox.add(default, data, "task")
    return count


def _messages(mailbox: Mailbox, rng: random.Random, count: int) -> int:
    inbox = mailbox.mail_folder("inbox")
    assert inbox is not None
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for n in range(count):
        first, last, address = _person(rng, n)
        message = EmailMessage()
        message["From"] = f"{first} {last} <{address}>"
        message["To"] = mailbox.smtp
        message["Subject"] = f"Quote {n}"
        message["Date"] = format_datetime(start + timedelta(minutes=n))
        message["Message-ID"] = f"<seed-{n}-{rng.randint(0, 10**9)}@example.org>"
        message.set_content(f"Hello, please find quote {n}.\n")
        raw = message.as_bytes()
        item = mailbox.add(inbox, message_fields(raw), "message")
        mailbox.mime[item.id] = raw
    return count
