"""Print how long exchangelib takes per FindItem page over a 10,000-contact mailbox."""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.report import Report
from ews_simulator.testing import SimulatorServer, client_account

SMTP = "bench@example.com"


def main() -> None:
    report = Report("simulator paging, 10,000 contacts")
    with SimulatorServer() as sim:
        started = time.perf_counter()
        sim.seed(SMTP, contacts=10_000, seed=1)
        print(f"seed 10000 contacts: {time.perf_counter() - started:.2f}s")
        account = client_account(sim.ews_url, SMTP, "x")
        for page_size in (100, 1000):
            qs = account.contacts.all().only("given_name", "surname").order_by("surname")
            qs.page_size = page_size
            started = time.perf_counter()
            count = sum(1 for _ in qs)
            elapsed = time.perf_counter() - started
            pages = -(-count // page_size)
            per_page = elapsed / pages * 1000
            print(f"page_size={page_size}: {count} items, {pages} pages, {per_page:.1f} ms/page")
            report.add(
                f"one page of {page_size}", f"{per_page:.0f} ms", "< 1000 ms", per_page < 1000
            )
    report.save()


if __name__ == "__main__":
    main()
