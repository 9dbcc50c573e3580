"""The `crmsync_license_seats_in_use` gauge.

Seat changes in this process publish the new count once they commit. A scrape reads that cached
value and only counts in the database when the value is older than `_MAX_AGE_SECONDS`, because
seats also change elsewhere (other API processes, the sweeper in a worker) and a scrape must stay
cheap.
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import Gauge

from app.db import get_database, unit_of_work
from app.kit.clock import utc_now
from app.licensing.repository import count_live_seats

logger = logging.getLogger("crmsync.licensing")

_MAX_AGE_SECONDS = 30.0

SEATS_IN_USE = Gauge(
    "crmsync_license_seats_in_use", "Licence seats held by users with a live session"
)


class _CachedCount:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0
        self._taken_at = float("-inf")

    def publish(self, value: int) -> None:
        with self._lock:
            self._value = value
            self._taken_at = time.monotonic()

    def read(self) -> float:
        with self._lock:
            fresh = time.monotonic() - self._taken_at < _MAX_AGE_SECONDS
            value = self._value
        if fresh:
            return value
        try:
            with unit_of_work(get_database()) as db:
                value = count_live_seats(db, utc_now())
        except Exception:  # a scrape reports the last value rather than failing
            logger.warning("could not count licence seats for the metrics", exc_info=True)
            return value
        self.publish(value)
        return value


seats_in_use = _CachedCount()
SEATS_IN_USE.set_function(seats_in_use.read)
