"""Politeness towards Exchange: a cap on concurrent EWS requests per server and per mailbox.

The caps are shared by every worker process through Redis (a counting semaphore whose slots
expire, so a dead worker cannot hold one forever); without Redis, as in the embedded default,
they hold within the process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import redis

from app.config import get_settings

# A slot is held for one EWS request, which ends by CRMSYNC_EWS_TIMEOUT_SECONDS (throttling
# included); one older than that plus this margin (clock skew between workers, the release's
# round trip) belongs to a dead worker and is dropped, freeing its place.
SLOT_TTL_MARGIN_SECONDS = 30
_WAIT_STEP_SECONDS = 0.05

# KEYS[1]: the semaphore; ARGV: now, ttl, limit, token. Drops expired slots, then takes one.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class SlotTimeout(RuntimeError):
    """No slot came free in time: Exchange is busy with this server's or mailbox's requests."""


class _RedisSemaphore:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.acquire_script = client.register_script(_ACQUIRE)

    def try_acquire(self, key: str, limit: int, token: str) -> bool:
        ttl = slot_ttl_seconds()
        return bool(self.acquire_script(keys=[key], args=[time.time(), ttl, limit, token]))

    def release(self, key: str, token: str) -> None:
        self.client.zrem(key, token)


def slot_ttl_seconds() -> int:
    return get_settings().ews_timeout_seconds + SLOT_TTL_MARGIN_SECONDS


class _LocalSemaphore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, set[str]] = {}

    def try_acquire(self, key: str, limit: int, token: str) -> bool:
        with self.lock:
            holders = self.held.setdefault(key, set())
            if len(holders) >= limit:
                return False
            holders.add(token)
            return True

    def release(self, key: str, token: str) -> None:
        with self.lock:
            self.held.get(key, set()).discard(token)


@lru_cache(maxsize=1)
def _semaphore() -> _RedisSemaphore | _LocalSemaphore:
    url = get_settings().effective_redis_url
    return _RedisSemaphore(redis.Redis.from_url(url)) if url else _LocalSemaphore()


@contextmanager
def _slot(key: str, limit: int, deadline: float) -> Iterator[None]:
    semaphore = _semaphore()
    token = uuid.uuid4().hex
    while not semaphore.try_acquire(key, limit, token):
        if time.monotonic() > deadline:
            raise SlotTimeout(f"no free EWS slot for {key} (limit {limit})")
        time.sleep(_WAIT_STEP_SECONDS)
    try:
        yield
    finally:
        semaphore.release(key, token)


@contextmanager
def ews_slot(server: str, mailbox: str | None) -> Iterator[None]:
    """Holds a slot of the server's cap and, when known, of the mailbox's, for one request."""
    settings = get_settings()
    deadline = time.monotonic() + settings.ews_timeout_seconds
    with _slot(f"crmsync:ews:server:{server}", settings.ews_max_per_server, deadline):
        if mailbox is None:
            yield
            return
        key = f"crmsync:ews:mailbox:{mailbox.lower()}"
        with _slot(key, settings.ews_max_per_mailbox, deadline):
            yield
