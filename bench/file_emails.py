"""Filing benchmark: files emails with attachments from a simulated mailbox through the filing
service, in batches as the API takes them (one transaction and one set of EWS calls per batch),
and prints emails per second and EWS requests per email.

    .venv/bin/python bench/file_emails.py [--count 1000] [--batch 50]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The database URL names a server where a scratch database is created and dropped afterwards;
`--database-url ''` uses a SQLite file in a temporary directory instead. Seeding the mailbox
is not timed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.report import Report
from bench.support import create_bench_user, scratch_database

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SENDERS = 20
# Every email carries a letterhead logo shared by all (stored once) and a report of its own.
LOGO = bytes(range(256)) * 40
REPORT_BYTES = 30_000


def email_bytes(n: int, mailbox: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Sender {n % SENDERS} <sender{n % SENDERS}@customer{n % SENDERS}.example>"
    message["To"] = mailbox
    message["Subject"] = f"Monthly report {n}"
    message["Message-ID"] = f"<bench-{n}@customer.example>"
    message["Date"] = format_datetime(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=n))
    message.set_content(f"Hello,\n\nthe report {n} is attached.\n")
    message.add_alternative(f"<p>Hello,</p><p>the report <b>{n}</b> is attached.</p>", "html")
    message.add_attachment(LOGO, maintype="image", subtype="png", filename="logo.png")
    report = (f"report {n} " * (REPORT_BYTES // 10)).encode()[:REPORT_BYTES]
    message.add_attachment(report, maintype="application", subtype="pdf", filename=f"r{n}.pdf")
    return message.as_bytes()


def run(count: int, batch: int) -> None:
    from exchangelib import Message
    from sqlalchemy import func, select

    from app.auth.service import Principal
    from app.config import get_settings
    from app.db import unit_of_work
    from app.filings import service as filing_service
    from app.filings.schemas import FilingFromMailbox
    from app.kit.content_store import ContentStore
    from app.migrate import upgrade_database
    from app.models.auth import KeyKind
    from app.models.crm import Company, Library
    from app.users import service as users_service
    from ews_simulator.testing import SimulatorServer
    from workers.connectors.ews.connection import open_account
    from workers.connectors.ews.messages import ExchangeMessages

    upgrade_database()
    smtp = "bench@example.com"
    settings = get_settings()
    store = ContentStore.from_settings(settings)
    admin = Principal(kind=KeyKind.ADMIN, user_id=None, key_id=0)
    with SimulatorServer() as sim:
        user_id = create_bench_user(sim.ews_url, smtp)
        with unit_of_work() as db:
            company = Company(comp_name="Customer")
            db.add(company)
            db.flush()
            company_id = company.comp_companyid
            connection = users_service.connection_for(users_service.get_existing(db, user_id))
        account = open_account(connection)
        seeding = time.perf_counter()
        item_ids: list[str] = []
        for start in range(0, count, 100):
            messages = [
                Message(account=account, folder=account.inbox, mime_content=email_bytes(n, smtp))
                for n in range(start, min(start + 100, count))
            ]
            item_ids += [str(i.id) for i in account.bulk_create(account.inbox, messages)]
        print(f"seeded {count} emails in {time.perf_counter() - seeding:.1f} s (not timed)")

        sim.clear_stats()
        mailbox = ExchangeMessages()
        started = time.perf_counter()
        created = 0
        for start in range(0, count, batch):
            body = FilingFromMailbox.model_validate(
                {
                    "item_ids": item_ids[start : start + batch],
                    "targets": [{"entity": "company", "id": company_id}],
                    "user_id": user_id,
                }
            )
            with unit_of_work() as db:
                filed = filing_service.file_from_mailbox(db, admin, body, mailbox, settings, store)
                created += sum(1 for f in filed if f.created)
        elapsed = time.perf_counter() - started
        requests = Counter(sim.stats()["requests"])

    with unit_of_work() as db:
        attachments = db.scalar(select(func.count()).select_from(Library)) or 0
        distinct = db.scalar(select(func.count(func.distinct(Library.libr_sha256)))) or 0
    total = sum(requests.values())
    print(f"filed {created} of {count} emails in {elapsed:.2f} s, batches of {batch}")
    print(f"  {count / elapsed:.1f} emails/s")
    print(f"  {total / count:.3f} EWS requests per email ({total} in all)")
    print("  by operation: " + ", ".join(f"{op} {n}" for op, n in sorted(requests.items())))
    print(f"  {attachments} attachment rows, {distinct} distinct contents in the content store")
    report = Report(f"filing {count} emails")
    report.add("emails per second", f"{count / elapsed:.1f}")
    report.add("EWS requests per email", f"{total / count:.3f}")
    report.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="emails to file")
    parser.add_argument("--batch", type=int, default=50, help="emails per filing call (≤ 100)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER),
        help="a PostgreSQL server for a scratch database; '' for SQLite",
    )
    args = parser.parse_args()
    with scratch_database(args.database_url):
        run(args.count, args.batch)


if __name__ == "__main__":
    main()
