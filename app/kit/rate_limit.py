"""Request rate limits: per token, and per client address for failed authentications.

Fixed one-minute windows counted in Redis, so every API process shares them; in the embedded
default (no Redis) each process counts for itself, and so does a process that cannot reach
Redis (it says so in the log and in /health) until Redis answers again. A limit of 0 turns
that limit off.

The failed-authentication limit counts and refuses failures only: a valid token always passes,
so failures of others (behind one proxy, every client shares an address) never lock out a
legitimate caller. Guessing gains nothing from that: tokens are 256-bit random strings, and
the limit is there to keep failing clients from hammering the database, not to hide guesses.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

from app.config import Settings
from app.kit.errors import AppError

WINDOW_SECONDS = 60

logger = logging.getLogger("crmsync.rate_limit")


class RateLimited(AppError):
    status_code = 429

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


# While Redis is failing, a process counts by itself and tries Redis again after this long, so
# an unreachable Redis does not add its connection timeout to every request.
REDIS_RETRY_SECONDS = 30.0


class WindowCounter(Protocol):
    def add(self, key: str, window: int) -> int:
        """Counts one more event in this window; returns the window's count."""
        ...

    def mode(self) -> str:
        """How the limits are counted, for /health: "ok", or what is degraded and why."""
        ...


class MemoryCounter:
    """One process's counts; only the current windows are kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def _current(self, window: int) -> dict[str, int]:
        if window != self._window:
            self._window, self._counts = window, {}
        return self._counts

    def add(self, key: str, window: int) -> int:
        with self._lock:
            counts = self._current(window)
            counts[key] = counts.get(key, 0) + 1
            return counts[key]

    def mode(self) -> str:
        return "ok"


class RedisCounter:
    """Counts shared by every API process, or this process's own counts while Redis fails.

    Failing closed would take the API down with Redis; failing open would switch the limits
    off. Per-process limits keep each process within them (a client spread over N processes
    gets N times the limit) until Redis answers again.
    """

    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._clock = clock
        self._fallback = MemoryCounter()
        self._failure: str | None = None
        self._retry_at = 0.0

    def _name(self, key: str, window: int) -> str:
        return f"{self._namespace}:{key}:{window}"

    def add(self, key: str, window: int) -> int:
        if self._failure is not None and self._clock() < self._retry_at:
            return self._fallback.add(key, window)
        try:
            pipeline = self._client.pipeline()
            pipeline.incr(self._name(key, window))
            # One window past its end, so a slow clock on another API process still counts it.
            pipeline.expire(self._name(key, window), 2 * WINDOW_SECONDS)
            count, _ = pipeline.execute()
        except redis.RedisError as exc:
            self._failed(exc)
            return self._fallback.add(key, window)
        self._recovered()
        return int(count)

    def mode(self) -> str:
        try:
            self._client.ping()
        except redis.RedisError as exc:
            self._failed(exc)
        else:
            self._recovered()
        if self._failure is None:
            return "ok"
        return f"per-process: Redis unreachable ({self._failure})"

    def _failed(self, exc: redis.RedisError) -> None:
        if self._failure is None:
            logger.warning(
                "rate limits counted per process: Redis failed (%s); retrying every %.0f s",
                type(exc).__name__,
                REDIS_RETRY_SECONDS,
            )
        self._failure = type(exc).__name__
        self._retry_at = self._clock() + REDIS_RETRY_SECONDS

    def _recovered(self) -> None:
        if self._failure is not None:
            logger.warning("rate limits shared through Redis again")
        self._failure = None


class RateLimiter:
    def __init__(
        self,
        counter: WindowCounter,
        *,
        per_token: int,
        failed_auth_per_address: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._counter = counter
        self._per_token = per_token
        self._failed_auth_per_address = failed_auth_per_address
        self._clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[], float] = time.time
    ) -> RateLimiter:
        counter: WindowCounter
        if settings.effective_redis_url:
            # The queue name tells apart deployments (and test sessions) sharing one Redis.
            counter = RedisCounter(
                redis.Redis.from_url(settings.effective_redis_url, socket_timeout=2),
                f"crmsync:ratelimit:{settings.queue_name}",
            )
        else:
            counter = MemoryCounter()
        return cls(
            counter,
            per_token=settings.rate_limit_per_minute,
            failed_auth_per_address=settings.failed_auth_limit_per_minute,
            clock=clock,
        )

    def _window(self) -> tuple[int, int]:
        """The current window and the seconds until the next one starts."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        return window, max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))

    def mode(self) -> str:
        return self._counter.mode()

    def record_failed_auth(self, address: str) -> None:
        """Counts a failed authentication; refuses it (429 rather than 401) past the limit."""
        if not self._failed_auth_per_address:
            return
        window, retry_after = self._window()
        if self._counter.add(f"failed:{address}", window) > self._failed_auth_per_address:
            raise RateLimited(
                f"too many failed authentications from {address}: at most "
                f"{self._failed_auth_per_address} a minute (CRMSYNC_FAILED_AUTH_LIMIT_PER_MINUTE)",
                retry_after,
            )

    def check_token(self, key_id: int) -> None:
        """Counts one request of the token; refuses it beyond the token's limit."""
        if not self._per_token:
            return
        window, retry_after = self._window()
        if self._counter.add(f"token:{key_id}", window) > self._per_token:
            raise RateLimited(
                f"too many requests with this token: at most {self._per_token} a minute "
                "(CRMSYNC_RATE_LIMIT_PER_MINUTE)",
                retry_after,
            )
