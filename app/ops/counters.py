"""Totals of finished runs, the items they synchronized and their EWS requests, in the database.

A worker adds a finished run's figures in the transaction that records the run, so the totals
are exact, outlive the worker that counted them, and are the same whichever API process is
scraped. The API exposes them as Prometheus counters (see `StoredCounters`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models.metrics import StoredCounter

RUNS = "runs"
ITEMS = "items"
EWS_REQUESTS = "ews_requests"

# metric → (Prometheus name without _total, help, label names)
FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    RUNS: ("crmsync_runs_finished", "Sync runs finished, by status", ("status",)),
    ITEMS: (
        "crmsync_run_items",
        "Items synchronized by finished runs, by entity, direction and outcome",
        ("entity", "direction", "outcome"),
    ),
    EWS_REQUESTS: ("crmsync_run_ews_requests", "EWS requests sent by finished runs", ()),
}

Sample = tuple[str, str, int]  # metric, labels, value


def encode_labels(**labels: str) -> str:
    return ",".join(f"{name}={labels[name]}" for name in sorted(labels))


def run_samples(status: str, counts: dict[str, Any], ews_requests: int) -> list[Sample]:
    """What one finished run adds: 1 run of its status, its items, its EWS requests."""
    samples: list[Sample] = [(RUNS, encode_labels(status=status), 1)]
    for entity, directions in counts.items():
        for direction, outcomes in directions.items():
            for outcome, amount in outcomes.items():
                if amount:
                    labels = encode_labels(entity=entity, direction=direction, outcome=outcome)
                    samples.append((ITEMS, labels, int(amount)))
    if ews_requests:
        samples.append((EWS_REQUESTS, "", ews_requests))
    return samples


def add(db: Session, samples: Iterable[Sample]) -> None:
    """Adds to the stored counters, creating them as needed; safe under concurrent workers."""
    totals: dict[tuple[str, str], int] = {}
    for metric, labels, value in samples:
        totals[metric, labels] = totals.get((metric, labels), 0) + value
    dialect = db.get_bind(StoredCounter).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # In key order, so two workers adding at once lock the rows in the same order.
    for (metric, labels), value in sorted(totals.items()):
        statement = insert(StoredCounter).values(metric=metric, labels=labels, value=value)
        db.execute(
            statement.on_conflict_do_update(
                index_elements=[StoredCounter.metric, StoredCounter.labels],
                set_={"value": StoredCounter.value + statement.excluded.value},
            )
        )


def read_all(db: Session) -> list[Sample]:
    return [
        (row.metric, row.labels, row.value)
        for row in db.scalars(select(StoredCounter).order_by(StoredCounter.metric))
    ]


def _decode_labels(labels: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in labels.split(",")) if labels else {}


class StoredCounters(Collector):
    """Yields the stored totals last read (by `app.ops.backlog.publish`) at each scrape."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def collect(self) -> Iterator[CounterMetricFamily]:
        for metric, (name, documentation, label_names) in FAMILIES.items():
            family = CounterMetricFamily(name, documentation, labels=label_names)
            for sample_metric, labels, value in self.samples:
                if sample_metric == metric:
                    decoded = _decode_labels(labels)
                    family.add_metric([decoded.get(label, "") for label in label_names], value)
            yield family
