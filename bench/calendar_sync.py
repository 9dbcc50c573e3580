"""Appointment and task sync benchmark: a first sync of 5,000 CRM appointments (200 of them
recurring series with an exception and a deleted occurrence) and 2,000 CRM tasks, then an
incremental run with 10 changes (5 in the CRM, 5 in Outlook). Prints wall time and EWS requests
by operation beside the targets of issue 5 (those of contacts).

    .venv/bin/python bench/calendar_sync.py [--scale 1.0] [--database-url postgresql+psycopg://…]

`--scale 0.1` runs a tenth of every count. Environment and scratch database as in
bench/contacts_sync.py, whose helpers this reuses.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.report import SyncRun, report_sync_targets
from bench.support import (
    age_crm_rows,
    create_bench_user,
    outlook_account,
    scratch_database,
)

BATCH = 100
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with scratch_database(args.database_url):
        run(
            appointments=round(5000 * args.scale),
            series=round(200 * args.scale),
            tasks=round(2000 * args.scale),
        )


def run(appointments: int, series: int, tasks: int) -> None:

    from app.db import get_database, unit_of_work
    from app.migrate import upgrade_database
    from app.models.crm import Communication
    from ews_simulator.testing import SimulatorServer
    from tests.factories.communications import appointment, task
    from workers.sync.runner import RunRequest, run_user_sync

    upgrade_database()
    database = get_database()
    now = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    with SimulatorServer() as sim:
        started = time.perf_counter()
        user_id = create_bench_user(sim.ews_url)
        with unit_of_work() as db:
            for n in range(appointments):
                start = now - timedelta(days=n % 13, hours=n % 7)
                recurring = n < series
                comm_id = appointment(
                    db,
                    user_id,
                    comm_subject=f"Meeting {n}",
                    comm_location=f"Room {n % 20}",
                    comm_datetime=start,
                    comm_todatetime=start + timedelta(minutes=30),
                    comm_note=f"Agenda for meeting {n}",
                    comm_recurrencerule=(
                        "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY="
                        f"{WEEKDAYS[start.weekday()]};COUNT=10\n"
                        f"EXDATE:{start + timedelta(weeks=2):%Y%m%dT%H%M%S}Z"
                    )
                    if recurring
                    else None,
                )
                if recurring:
                    moved = start + timedelta(weeks=1, hours=1)
                    appointment(
                        db,
                        None,
                        comm_subject=f"Meeting {n} (moved)",
                        comm_datetime=moved,
                        comm_todatetime=moved + timedelta(minutes=30),
                        comm_recurrenceid=comm_id,
                        comm_exception="Y",
                        comm_originaldatetime=start + timedelta(weeks=1),
                    )
            for n in range(tasks):
                task(
                    db,
                    user_id,
                    comm_subject=f"Task {n}",
                    comm_datetime=now + timedelta(days=n % 30),
                )
        print(
            f"setup: {appointments} appointments ({series} series), {tasks} tasks "
            f"({time.perf_counter() - started:.1f} s)"
        )

        def measured(label: str) -> tuple[float, Counter[str]]:
            sim.clear_stats()
            began = time.perf_counter()
            result = run_user_sync(RunRequest(user_id=user_id, trigger="bench"))
            elapsed = time.perf_counter() - began
            requests = Counter(sim.stats()["requests"])
            print(f"\n{label}: {result.status.value} in {elapsed:.2f} s")
            print(f"  counts: {result.counts}")
            print(f"  EWS requests: {sum(requests.values())} {dict(sorted(requests.items()))}")
            return elapsed, requests

        first_time, first_requests = measured("first sync")
        age_crm_rows(database)
        outlook = outlook_account(sim.ews_url)
        for item in outlook.tasks.all().order_by("subject")[:5]:
            item.subject = f"{item.subject} (changed in Outlook)"
            item.save(update_fields=["subject"])
        with unit_of_work() as db:
            for row in (
                db.query(Communication)
                .filter(Communication.comm_type == "Appointment")
                .order_by(Communication.comm_communicationid.desc())
                .limit(5)
            ):
                row.comm_location = "Changed in the CRM"
        incremental_time, incremental_requests = measured("incremental (5+5)")

    # The minimum for the first sync: creates in 100-item batches per folder, one GetItem
    # batch per 100 series for their occurrences, one UpdateItem and one DeleteItem batch per 100
    # series, and the listings (SyncFolderItems pages of 512, three folders, two passes).
    minimum = (
        math.ceil(appointments / BATCH)
        + math.ceil(tasks / BATCH)
        + 3 * math.ceil(series / BATCH)
        + 2 * sum(math.ceil(max(n, 1) / 512) for n in (0, appointments, tasks))
    )
    report_sync_targets(
        f"calendar {appointments} appointments ({series} series) + {tasks} tasks",
        SyncRun(first_time, sum(first_requests.values())),
        minimum,
        SyncRun(incremental_time, sum(incremental_requests.values())),
        "5+5",
    )


if __name__ == "__main__":
    main()
