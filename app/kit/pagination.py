"""Keyset pagination: `?limit=N&cursor=C` → `{"items": [...], "next_cursor": C | null}`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.kit.errors import InvalidInput
from app.kit.validation import MAX_ID

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


class PageRequest(BaseModel):
    limit: int
    after_id: int | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode()


def page_request(
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> PageRequest:
    if cursor is None:
        return PageRequest(limit=limit, after_id=None)
    try:
        after_id = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("query.cursor: not a cursor this API returned") from None
    if not 0 <= after_id <= MAX_ID:
        raise InvalidInput("query.cursor: not a cursor this API returned")
    return PageRequest(limit=limit, after_id=after_id)


def make_page(items: list[ItemT], ids: list[int], request: PageRequest) -> Page[ItemT]:
    """`items` were fetched with limit + 1 rows, so a surplus row means there is a next page."""
    if len(items) > request.limit:
        return Page(items=items[: request.limit], next_cursor=encode_cursor(ids[request.limit - 1]))
    return Page(items=items, next_cursor=None)


def every_item(
    fetch: Callable[[PageRequest], Page[ItemT]], id_of: Callable[[ItemT], int]
) -> Iterator[ItemT]:
    """All items of a listing, page after page (for the CLI, which prints them all)."""
    after_id: int | None = None
    while True:
        page = fetch(PageRequest(limit=500, after_id=after_id))
        yield from page.items
        if page.next_cursor is None or not page.items:
            return
        after_id = id_of(page.items[-1])
