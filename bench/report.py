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
