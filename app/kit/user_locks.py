"""Where a user's sync lock lives, and whether someone holds it (workers.locks takes it).

A run marked Running whose user's lock nobody holds belongs to a worker that died: the lock
is held for the whole run and renewed while it goes on, and it expires (Redis) or is released
by the kernel (the embedded default's file lock) once its holder is gone.
"""

from __future__ import annotations

import fcntl
import logging
from functools import lru_cache
from pathlib import Path

import redis

from app.config import Settings, get_settings

logger = logging.getLogger("crmsync.locks")


def redis_lock_name(settings: Settings, user_id: int) -> str:
    # Per queue: deployments sharing one Redis (e.g. staging beside production) have their
    # own users under the same ids.
    return f"crmsync:{settings.queue_name}:lock:user:{user_id}"


def lock_file(settings: Settings, user_id: int) -> Path:
    return settings.data_dir / "locks" / f"user-{user_id}.lock"


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def is_held(user_id: int) -> bool:
    """Whether a live process holds the user's lock. When that cannot be told (Redis is
    unreachable) the answer is yes: a live run must never be taken for a dead one."""
    settings = get_settings()
    if settings.effective_redis_url:
        try:
            return bool(
                _redis(settings.effective_redis_url).exists(redis_lock_name(settings, user_id))
            )
        except redis.RedisError as exc:
            logger.warning("cannot tell whether user %s's lock is held: %s", user_id, exc)
            return True
    path = lock_file(settings, user_id)
    if not path.exists():
        return False
    with path.open("a") as handle:
        # A probe: taking the lock for an instant is the only question flock answers.
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
