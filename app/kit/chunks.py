"""Long id lists cut into pieces a query (`IN (…)`) or a bulk request can take."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Well under every database's limit on bound parameters, and a comfortable round trip.
QUERY_CHUNK = 500


def chunked(items: Sequence[T], size: int = QUERY_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
