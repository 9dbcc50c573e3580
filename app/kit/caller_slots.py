"""A per-caller cap on concurrent long requests, so one token cannot take a process's capacity.

Counted in this API process, on its event loop (no lock needed: nothing here awaits between the
check and the count). The capacity it protects, the process's threads and database connections,
is per process too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.kit.rate_limit import RateLimited

# What a refused caller is told to wait before asking again.
RETRY_AFTER_SECONDS = 5


class CallerSlots:
    def __init__(self, per_caller: int, what: str, setting: str) -> None:
        self.per_caller = per_caller
        self._what = what
        self._setting = setting
        self._held: Counter[int] = Counter()

    @asynccontextmanager
    async def hold(self, caller: int) -> AsyncIterator[None]:
        """One slot of `caller` for the block; 429 when the caller holds all of theirs."""
        if self._held[caller] >= self.per_caller:
            raise RateLimited(
                f"at most {self.per_caller} {self._what} at a time per token ({self._setting})",
                RETRY_AFTER_SECONDS,
            )
        self._held[caller] += 1
        try:
            yield
        finally:
            self._held[caller] -= 1
            if not self._held[caller]:
                del self._held[caller]
