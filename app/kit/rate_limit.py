"""Request rate limits: per token, and per client address for failed authentications.

Fixed one-minute windows counted in Redis, so every API process shares them; in the embedded
default (no Redis) each process counts for itself. A limit of 0 turns that limit off.

An address over its failed-authentication limit is refused before its token is even looked
at: were the guess checked first, a brute-force client would still learn which guess is right.
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


class WindowCounter(Protocol):
    def add(self, key: str, window: int) -> int:
        """Counts one more event in this window; returns the window's count."""
        ...

    def get(self, key: str, window: int) -> int: ...


class RedisCounter:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._client = client
        self._namespace = namespace

    def _name(self, key: str, window: int) -> str:
        return f"{self._namespace}:{key}:{window}"

    def add(self, key: str, window: int) -> int:
        try:
            pipeline = self._client.pipeline()
            pipeline.incr(self._name(key, window))
            # One window past its end, so a slow clock on another API process still counts it.
            pipeline.expire(self._name(key, window), 2 * WINDOW_SECONDS)
            count, _ = pipeline.execute()
        except redis.RedisError as exc:
            return _unlimited(exc)
        return int(count)

    def get(self, key: str, window: int) -> int:
        try:
            value = self._client.get(self._name(key, window))
        except redis.RedisError as exc:
            return _unlimited(exc)
        return int(value) if value is not None else 0


def _unlimited(exc: redis.RedisError) -> int:
    # A limiter that fails closed would take the API down with Redis; this one lets requests
    # through and says so.
    logger.warning("rate limits not enforced: Redis failed (%s)", type(exc).__name__)
    return 0


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

    def get(self, key: str, window: int) -> int:
        with self._lock:
            return self._current(window).get(key, 0)


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

    def check_address(self, address: str) -> None:
        """Refuses an address that failed to authenticate too often in this window."""
        if not self._failed_auth_per_address:
            return
        window, retry_after = self._window()
        if self._counter.get(f"failed:{address}", window) >= self._failed_auth_per_address:
            raise RateLimited(
                f"too many failed authentications from {address}: at most "
                f"{self._failed_auth_per_address} a minute (CRMSYNC_FAILED_AUTH_LIMIT_PER_MINUTE)",
                retry_after,
            )

    def record_failed_auth(self, address: str) -> None:
        if self._failed_auth_per_address:
            self._counter.add(f"failed:{address}", self._window()[0])

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
