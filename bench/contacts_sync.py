"""Contact sync benchmark: a first sync of N flagged persons plus N Outlook contacts, then an
incremental run with 10 changes on each side. Prints wall time, EWS requests by operation and
SQL statements, against the targets of issue 4.

    .venv/bin/python bench/contacts_sync.py [--persons 5000] [--contacts 5000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]

With a PostgreSQL URL a scratch database is created beside the one named and dropped after.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import sys
import time
from collections import Counter
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.report import SyncRun, report_sync_targets
from bench.support import (
    AGE_MINUTES,
    BENCH_MAILBOX,
    age_crm_rows,
    create_bench_user,
    outlook_account,
    scratch_database,
)


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--profile", action="store_true", help="profile the incremental run")
    args = parser.parse_args()
    with scratch_database(args.database_url):
        run(args.persons, args.contacts, args.changes, profile=args.profile)


def run(persons: int, contacts: int, changes: int, *, profile: bool = False) -> None:
    from sqlalchemy import event, select

    from app.crm.flags import flag_person
    from app.crm.writer import PersonWriter
    from app.db import get_database, unit_of_work
    from app.migrate import upgrade_database
    from app.models.crm import Person
    from ews_simulator.testing import SimulatorServer
    from workers.sync.runner import RunRequest, run_user_sync

    upgrade_database()
    database = get_database()
    with SimulatorServer() as sim:
        user_id = create_bench_user(sim.ews_url)
        started = time.perf_counter()
        with unit_of_work() as db:
            writer = PersonWriter(db, user_id, create_companies=True)
            for n in range(persons):
                person = writer.create(
                    {
                        "pers_firstname": f"First{n}",
                        "pers_lastname": f"Last{n}",
                        "pers_title": "Engineer",
                        "company.comp_name": f"Company {n % 50}",
                        "email.Business": f"person{n}@crm.example.com",
                        "phone.Business": f"+44 (20) {n:08d}",
                        "address.street": f"{n} High Street",
                        "address.addr_city": "London",
                    }
                )
                flag_person(db, user_id, person.pers_personid)
        sim.seed(BENCH_MAILBOX, contacts=contacts, seed=1)
        print(
            f"setup: {persons} CRM persons, {contacts} Outlook contacts "
            f"({time.perf_counter() - started:.1f} s)"
        )

        statements = StatementCounter()
        event.listen(database.engine, "before_cursor_execute", statements)

        def measured(label: str, profiled: bool = False) -> tuple[float, Counter[str], int]:
            sim.clear_stats()
            statements.count = 0
            profiler = cProfile.Profile() if profiled else None
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            run = run_user_sync(RunRequest(user_id=user_id, trigger="bench"))
            elapsed = time.perf_counter() - began
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            requests = Counter(sim.stats()["requests"])
            print(f"\n{label}: {run.status.value} in {elapsed:.2f} s")
            print(f"  counts: {run.counts}")
            print(f"  EWS requests: {sum(requests.values())} {dict(sorted(requests.items()))}")
            print(f"  SQL statements: {statements.count}")
            return elapsed, requests, statements.count

        first_time, first_requests, _ = measured("first sync")
        age_crm_rows(database)

        outlook = outlook_account(sim.ews_url)
        for contact in outlook.contacts.all().order_by("surname")[:changes]:
            contact.job_title = "Changed in Outlook"
            contact.save(update_fields=["job_title"])
        with unit_of_work() as db:
            writer = PersonWriter(db, None, create_companies=False)
            for person in db.scalars(select(Person).order_by(Person.pers_personid).limit(changes)):
                writer.update(person, {"pers_title": "Changed in the CRM"})

        incremental_time, incremental_requests, _ = measured(
            f"incremental ({changes}+{changes})", profiled=profile
        )

    total = persons + contacts
    # Listing every item, creating the CRM's persons in Outlook and reading them back, in
    # 100-item requests.
    minimum = math.ceil(total / 100) + math.ceil(persons / 100) + math.ceil(persons / 100)
    print(f"\n(CRM rows aged {AGE_MINUTES} min between the runs, as the sync interval would)")
    report_sync_targets(
        f"contacts {persons}+{contacts}",
        SyncRun(first_time, sum(first_requests.values())),
        minimum,
        SyncRun(incremental_time, sum(incremental_requests.values())),
        f"{changes}+{changes}",
    )


if __name__ == "__main__":
    main()
