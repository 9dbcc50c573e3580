"""Canonical records: the entity-agnostic shape both sides are compared in.

A mapper turns a CRM row or an Exchange item into a `Record` whose field names are the same on
both sides, so the planner can compare and merge them without knowing the entity.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias, TypeVar

Value: TypeAlias = str | int | float | bool | datetime | tuple["Value", ...] | None
Record: TypeAlias = Mapping[str, Value]


def is_empty(value: Value) -> bool:
    """Whether a value carries no information (a first-sync match takes the other side's)."""
    return value is None or value == ""


def _tagged(value: Value) -> object:
    # Tagging keeps values of different types from encoding alike (a datetime and its ISO text,
    # a tuple and a list, True and 1 are all distinct records).
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, tuple):
        return {"tuple": [_tagged(item) for item in value]}
    if isinstance(value, bool):
        return {"bool": value}
    return value


def record_hash(record: Record) -> str:
    """A stable content hash of a record, for runners that store hashes instead of values."""
    canonical = json.dumps(
        {name: _tagged(value) for name, value in record.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LinkState:
    """A synchronized pair as stored between runs."""

    crm_id: str
    remote_id: str
    change_key: str | None
    base: Record  # values last synchronized to both sides: the base of the three-way merge
    pending: Record = field(default_factory=dict)  # admin-chosen values, written to both sides
    held: bool = False  # an unresolved review conflict: left untouched until resolved


@dataclass(frozen=True)
class CrmItem:
    crm_id: str
    record: Record
    modified: datetime


@dataclass(frozen=True)
class RemoteItem:
    remote_id: str
    change_key: str | None
    record: Record
    modified: datetime
    tag: str | None = None  # the crm_id crmsync stamped on an item it created


@dataclass(frozen=True)
class Unreadable:
    """An item one side lists but cannot be read as a record (a poison row, a malformed item):
    the pass leaves it and its link alone and reports it; the item failures retry it."""

    reason: str


_Read = TypeVar("_Read")


def unreadable_on_error(read: Callable[[], _Read]) -> _Read | Unreadable:
    """One item's reading, or why it failed: one bad item must not stop the others.

    Any exception of the reading is the item's own (the rows and items were already fetched;
    whole-side failures such as a lost connection raise before or after the per-item reads).
    """
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 — whatever a mapper raises is this item's error
        # A ValueError states the item's problem in words (RecurrenceError among them);
        # anything else is a defect, named by its type.
        words = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        return Unreadable(words or type(exc).__name__)
