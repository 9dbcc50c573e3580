"""Tagged JSON: field values stored in JSON without losing their type (shared with the engine).

Datetimes, tuples and booleans carry a one-key tag (`{"datetime": iso}`, `{"tuple": [...]}`,
`{"bool": b}`) so that a datetime and its ISO text, a tuple and a list, True and 1 stay distinct
after a round trip through a JSON column. Strings, numbers and None are stored as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

Value: TypeAlias = str | int | float | bool | datetime | tuple["Value", ...] | None


def encode(value: Value) -> Any:
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, tuple):
        return {"tuple": [encode(item) for item in value]}
    if isinstance(value, bool):
        return {"bool": value}
    return value


def decode(data: Any) -> Value:
    if data is None or isinstance(data, str | int | float):
        return data
    if isinstance(data, dict) and len(data) == 1:
        ((tag, inner),) = data.items()
        if tag == "datetime" and isinstance(inner, str):
            return datetime.fromisoformat(inner)
        if tag == "tuple" and isinstance(inner, list):
            return tuple(decode(item) for item in inner)
        if tag == "bool" and isinstance(inner, bool):
            return inner
    raise ValueError(f"not a tagged JSON value: {data!r}")


def to_plain(data: Any) -> Any:
    """A tagged value as plain JSON for display: datetimes as ISO text, tuples as lists."""
    return _plain(decode(data))


def _plain(value: Value) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value
