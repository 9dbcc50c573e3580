"""Adapter calls whose failures become values, and a pair's progress through its batch.

The executor never lets one item's failure stop the others: a call's exception is returned as
that item's result (or, for a bulk call failing as a whole, as every item's), and the pair
remembers which of its writes held, so its link settles on what both sides really hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from workers.sync.core.actions import Hold, Reconcile, Remove

_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass
class PairProgress:
    """One pair's action while its batch is applied: the ids it has now, which writes held."""

    action: Reconcile | Remove | Hold
    crm_id: str | None
    remote_id: str | None
    change_key: str | None
    crm_written: bool = True
    remote_written: bool = True

    @classmethod
    def start(cls, action: Reconcile | Remove | Hold) -> PairProgress:
        if isinstance(action, Reconcile):
            return cls(action, action.crm_id, action.remote_id, action.change_key)
        if action.link is not None:
            return cls(action, action.link.crm_id, action.link.remote_id, action.link.change_key)
        orphan = (
            action.remote_write.remote_id
            if isinstance(action, Remove) and action.remote_write
            else None
        )
        return cls(action, None, orphan, None)


def attempt(call: Callable[[], _R]) -> _R | Exception:
    """Run an adapter call; its failure becomes a value, one item's or one batch's error."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - adapters raise their own, unknown error types
        return error


def bulk(call: Callable[[Sequence[_T]], Sequence[_R]], items: Sequence[_T]) -> list[_R | Exception]:
    """A bulk call's per-item results; a call that fails as a whole fails every item."""
    if not items:
        return []
    results = attempt(lambda: list(call(items)))
    if isinstance(results, Exception):
        return [results] * len(items)
    if len(results) != len(items):
        mismatch = RuntimeError(f"bulk call returned {len(results)} results for {len(items)}")
        return [mismatch] * len(items)
    return list(results)
