"""Per-user locks, so a user's synchronization never runs twice at once.

With Redis (production) the lock is shared by every worker and expires if its holder dies; it
is renewed while the run goes on. In the embedded default (one machine, no Redis) an OS file
lock does the same job between the processes of that machine.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from app.config import get_settings
from app.kit.user_locks import lock_file, redis_lock_name


@contextmanager
def user_lock(user_id: int) -> Iterator[bool]:
    """Yields True when this process holds the user's lock, False when another does."""
    settings = get_settings()
    redis_url = settings.effective_redis_url
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        name = redis_lock_name(settings, user_id)
        with _redis_lock(client, name, settings.user_lock_seconds) as held:
            yield held
    else:
        path = lock_file(settings, user_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(path) as held:
            yield held


@contextmanager
def _redis_lock(client: redis.Redis, name: str, ttl_seconds: int) -> Iterator[bool]:
    # Not thread-local: the renewing thread must see the token the job's thread acquired.
    lock = client.lock(name, timeout=ttl_seconds, blocking=False, thread_local=False)
    if not lock.acquire():
        yield False
        return
    stop = threading.Event()

    def renew() -> None:
        # Renewed three times per lifetime, so one late renewal does not lose the lock.
        while not stop.wait(ttl_seconds / 3):
            lock.reacquire()

    renewer = threading.Thread(target=renew, name=f"renew {name}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        lock.release()


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
