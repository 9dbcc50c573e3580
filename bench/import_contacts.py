"""Benchmark: import a generated Outlook CSV export and print rows per second and peak memory.

    .venv/bin/python bench/import_contacts.py                  # 100,000 rows, temporary SQLite
    .venv/bin/python bench/import_contacts.py --rows 5000
    .venv/bin/python bench/import_contacts.py --database-url postgresql+psycopg://…/bench

The file is deterministic (a fixed seed): about 2% of its rows repeat an earlier e-mail address
and 1% are invalid, as real exports do. The import runs as the CLI runs it, in this process; a
second run of the same file (all duplicates) is timed too. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

HEADER = [
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department",
    "Job Title", "Business Street", "Business City", "Business State", "Business Postal Code",
    "Business Country/Region", "Business Phone", "Home Phone", "Mobile Phone", "Business Fax",
    "E-mail Address", "E-mail 2 Address", "Web Page", "Notes",
]  # fmt: skip
FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Zoë", "José"]
LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Müller"]
COMPANIES = [f"Company {n}" for n in range(200)]


def generate(path: Path, rows: int, seed: int = 20240501) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for n in range(rows):
            first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{n}"
            roll = rng.random()
            if roll < 0.02 and n:
                email = f"person{rng.randrange(n)}@example.com"  # repeats an earlier row
            elif roll < 0.03:
                email = "not-an-address"
            else:
                email = f"person{n}@example.com"
            writer.writerow([
                rng.choice(["", "Mr.", "Ms.", "Dr."]), first, "", last, "",
                rng.choice(COMPANIES), "Sales", "Manager",
                f"{rng.randint(1, 999)} High Street\nSuite {rng.randint(1, 50)}", "London", "",
                "N1 9GU", "United Kingdom", f"+44 (20) {rng.randint(1000, 9999)} {n % 10000:04d}",
                "", f"+44 7700 {n % 1000000:06d}", "", email, "", "", "Met at a conference",
            ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--batch-size", type=int, default=0, help="default: the service's")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="crmsync-bench-import-"))
    # Settings are read once, on first use: configure before importing the application.
    os.environ["CRMSYNC_DATA_DIR"] = str(workdir / "data")
    os.environ["CRMSYNC_DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    os.environ.pop("CRMSYNC_CRM_DATABASE_URL", None)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    from app.db import get_database, unit_of_work
    from app.imports import service
    from app.imports.parsers import ContactFile
    from app.migrate import upgrade_database
    from bench.report import Report

    if args.batch_size:
        service.BATCH_SIZE = args.batch_size
    upgrade_database()
    database = get_database()

    export = workdir / "outlook.csv"
    started = time.perf_counter()
    generate(export, args.rows)
    print(
        f"generated {args.rows:,} rows ({export.stat().st_size / 1e6:.1f} MB) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    print(f"database: {database.engine.url.render_as_string(hide_password=True)}")
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    report = Report(f"import {args.rows:,} CSV rows")
    for label in ("first run", "second run (all duplicates)"):
        with unit_of_work(database) as db:
            job = service.create_import(
                db, ContactFile(export), export.name, service.ImportOptions()
            )
            import_id = job.id
        started = time.perf_counter()
        result = service.run_import(database, import_id)
        elapsed = time.perf_counter() - started
        assert result is not None
        report_started = time.perf_counter()
        report_bytes = sum(len(chunk) for chunk in service.report_lines(database, import_id))
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"{label}: {result.status}, {result.rows_done:,} rows in {elapsed:.1f} s = "
            f"{result.rows_done / elapsed:,.0f} rows/s; counts {result.counts}; "
            f"report {report_bytes / 1e6:.1f} MB in {time.perf_counter() - report_started:.1f} s"
        )
        print(f"  peak RSS {peak_kb / 1024:.0f} MB (before importing: {baseline_kb / 1024:.0f} MB)")
        report.add(f"{label} rows per second", f"{result.rows_done / elapsed:,.0f}")
    report.add("peak memory (RSS)", f"{peak_kb / 1024:.0f} MB, {baseline_kb / 1024:.0f} MB before")
    report.save()
    database.dispose()


if __name__ == "__main__":
    main()
