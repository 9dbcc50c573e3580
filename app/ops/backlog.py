"""Gauges of the sync backlog counted in the database, and the counters stored there.

Any API process can report them without asking the workers. The counts are taken at most every
`CACHE_SECONDS`, so scrapes stay cheap however often they come and however many API processes
are scraped; the age of the oldest queued run is reckoned at each scrape from the cached time.
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import REGISTRY, Gauge

from app.db import Database, unit_of_work
from app.kit.clock import utc_now
from app.ops.counters import StoredCounters
from app.ops.repository import SyncBacklog, sync_backlog

logger = logging.getLogger("crmsync.ops")

CACHE_SECONDS = 15.0

RUNS_IN_PROGRESS = Gauge("crmsync_sync_runs_in_progress", "Sync runs a worker is carrying out")
RUNS_QUEUED = Gauge("crmsync_sync_runs_queued", "Sync runs waiting for a worker (retries too)")
OLDEST_QUEUED_AGE = Gauge(
    "crmsync_sync_oldest_queued_run_age_seconds",
    "How long the oldest queued run has waited (0: none queued); a retry waiting out its "
    "back-off counts as waiting",
)
USERS_SUSPENDED = Gauge(
    "crmsync_sync_users_suspended", "Users whose sync is suspended until an admin resumes it"
)
ALERTS_OPEN = Gauge("crmsync_alerts_open", "Alerts no administrator has acknowledged")
STORED_COUNTERS = StoredCounters()
REGISTRY.register(STORED_COUNTERS)


class CachedBacklog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: SyncBacklog | None = None
        self._taken_at = float("-inf")

    def read(self, database: Database) -> SyncBacklog | None:
        """The backlog, counted again when the cached counts are older than CACHE_SECONDS."""
        with self._lock:
            if time.monotonic() - self._taken_at < CACHE_SECONDS:
                return self._value
            try:
                with unit_of_work(database) as db:
                    self._value = sync_backlog(db)
            except Exception:  # a scrape reports the last counts rather than failing
                logger.warning("could not count the sync backlog for the metrics", exc_info=True)
                return self._value
            self._taken_at = time.monotonic()
            return self._value


cached_backlog = CachedBacklog()


def publish(database: Database) -> None:
    """Sets the backlog gauges, for the scrape about to be answered."""
    counts = cached_backlog.read(database)
    if counts is None:
        return
    RUNS_IN_PROGRESS.set(counts.runs_in_progress)
    RUNS_QUEUED.set(counts.runs_queued)
    waited = utc_now() - counts.oldest_queued_at if counts.oldest_queued_at else None
    OLDEST_QUEUED_AGE.set(max(waited.total_seconds(), 0.0) if waited else 0.0)
    USERS_SUSPENDED.set(counts.users_suspended)
    ALERTS_OPEN.set(counts.alerts_open)
    STORED_COUNTERS.samples = counts.counters
