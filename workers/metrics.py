"""Prometheus metrics of the worker processes (each serves them on its own port, see cli)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SYNC_RUNS = Counter("crmsync_sync_runs_total", "Sync runs finished", ["status"])
SYNC_ITEMS = Counter(
    "crmsync_sync_items_total",
    "Items synchronized, by entity, direction and outcome",
    ["entity", "direction", "outcome"],
)
SYNC_DURATION = Histogram(
    "crmsync_sync_run_seconds",
    "Duration of a user's sync run",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
)
QUEUE_LAG = Histogram(
    "crmsync_sync_queue_lag_seconds",
    "Time a sync run waited in the queue before a worker started it",
    buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600),
)
EWS_REQUESTS = Counter("crmsync_ews_requests_total", "EWS requests sent", ["operation"])
EWS_ERRORS = Counter(
    "crmsync_ews_errors_total", "EWS requests that failed, by kind", ["operation", "kind"]
)
EWS_LATENCY = Histogram(
    "crmsync_ews_request_seconds",
    "EWS request latency",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
