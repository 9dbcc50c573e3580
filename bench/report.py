"""Figures a benchmark reports: printed as they come, and saved as JSON for bench/run_all.

A benchmark run by bench/run_all finds the file to write in the BENCH_JSON variable.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field


@dataclass
class Figure:
    name: str
    value: str
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    benchmark: str
    figures: list[Figure] = field(default_factory=list)

    def add(self, name: str, value: str, target: str = "", met: bool | None = None) -> None:
        self.figures.append(Figure(name, value, target, met))
        verdict = "" if met is None else (" ✓" if met else " ✗")
        wanted = f" (target {target})" if target else ""
        print(f"  [{self.benchmark}] {name}: {value}{wanted}{verdict}")

    def save(self) -> None:
        path = os.environ.get("BENCH_JSON")
        if path:
            with open(path, "w") as handle:
                json.dump(
                    {"benchmark": self.benchmark, "figures": [asdict(f) for f in self.figures]},
                    handle,
                )


@dataclass(frozen=True)
class SyncRun:
    seconds: float
    ews_requests: int


def report_sync_targets(
    benchmark: str, first: SyncRun, minimum: int, incremental: SyncRun, changes: str
) -> None:
    """The targets issues 4 and 5 set for a first sync and an incremental run after it."""
    report = Report(benchmark)
    share = incremental.seconds / first.seconds
    ratio = first.ews_requests / minimum
    report.add("first sync", f"{first.seconds:.1f} s, {first.ews_requests} EWS requests")
    report.add(
        "first sync EWS requests / minimum",
        f"{first.ews_requests}/{minimum} = {ratio:.2f}x",
        "<= 1.2x",
        ratio <= 1.2,
    )
    report.add(
        f"incremental ({changes}) time / first",
        f"{incremental.seconds:.2f} s = {share:.1%}",
        "< 5%",
        share < 0.05,
    )
    report.add(
        "incremental EWS requests",
        str(incremental.ews_requests),
        "< 10",
        incremental.ews_requests < 10,
    )
    report.save()
