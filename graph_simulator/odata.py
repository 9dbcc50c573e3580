"""Requests, responses, errors and the OData query options crmsync uses.

Served query forms: `$select`, `$top`, `$expand=singleValueExtendedProperties($filter=id eq
'…' or id eq '…')` and `$expand=linkedResources`, and `$filter` as `name eq 'literal'` or
`singleValueExtendedProperties/any(ep: ep/id eq '…' and ep/value eq '…')`. Anything else in a
`$filter` is refused with 400, as Graph refuses what it cannot evaluate, rather than ignored.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

EXTENDED_PROPERTIES = "singleValueExtendedProperties"
_LITERAL = r"'((?:[^']|'')*)'"
_EQ = re.compile(rf"^\s*(\w+)\s+eq\s+{_LITERAL}\s*$")
_ANY = re.compile(
    rf"^\s*{EXTENDED_PROPERTIES}/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+{_LITERAL}"
    rf"(?:\s+and\s+\1/value\s+eq\s+{_LITERAL})?\s*\)\s*$",
    re.IGNORECASE,
)
_ID_EQ = re.compile(rf"^\s*id\s+eq\s+{_LITERAL}\s*$", re.IGNORECASE)


class GraphError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": str(uuid.uuid4()),
                },
            }
        }
        return Response(self.status, body, dict(self.headers))


def bad_request(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def not_found(what: str) -> GraphError:
    return GraphError(404, "ErrorItemNotFound", f"The specified object was not found: {what}.")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as e:
            raise GraphError(400, "RequestBodyRead", f"The body is not valid JSON: {e}") from e
        if not isinstance(data, dict):
            raise GraphError(400, "RequestBodyRead", "The body must be a JSON object.")
        return data

    def prefer(self) -> dict[str, str]:
        """Prefer header preferences, e.g. odata.maxpagesize, outlook.timezone."""
        found: dict[str, str] = {}
        for part in re.split(r"\s*,\s*", self.headers.get("prefer", "")):
            name, _, value = part.partition("=")
            if name.strip():
                found[name.strip().lower()] = value.strip().strip('"')
        return found

    def page_size(self, default: int) -> int:
        raw = self.prefer().get("odata.maxpagesize") or self.query.get("$top")
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise bad_request(f"Invalid page size {raw!r}.")
        return min(int(raw), 1000)


def _unquote(literal: str) -> str:
    return literal.replace("''", "'")


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts]


@dataclass(frozen=True)
class Shape:
    """What a response shows of an item: $select and $expand."""

    select: frozenset[str] | None = None
    expand_properties: frozenset[str] | None = None  # lower-cased ids; empty set: all
    expand_linked_resources: bool = False

    @classmethod
    def of(cls, query: dict[str, str]) -> Shape:
        select = None
        if query.get("$select"):
            select = frozenset(s.strip() for s in query["$select"].split(",") if s.strip())
        expand_properties: frozenset[str] | None = None
        linked = False
        for part in _split_top_level(query.get("$expand", "")):
            name, _, options = part.partition("(")
            name = name.strip()
            if name == EXTENDED_PROPERTIES:
                options = options.rstrip(")").strip()
                if not options:
                    expand_properties = frozenset()
                    continue
                expand_properties = _expanded_ids(options)
            elif name == "linkedResources":
                linked = True
            else:
                raise bad_request(f"Could not find a navigation property named {name!r}.")
        return cls(select, expand_properties, linked)

    def present(self, full: dict[str, Any]) -> dict[str, Any]:
        shown = {
            k: v
            for k, v in full.items()
            if k not in (EXTENDED_PROPERTIES, "linkedResources")
            and (self.select is None or k in self.select or k in ("id", "@odata.etag"))
        }
        if self.expand_properties is not None:
            shown[EXTENDED_PROPERTIES] = [
                p
                for p in full.get(EXTENDED_PROPERTIES, [])
                if not self.expand_properties or p["id"].lower() in self.expand_properties
            ]
        if self.expand_linked_resources:
            shown["linkedResources"] = list(full.get("linkedResources", []))
        return shown


def _expanded_ids(options: str) -> frozenset[str]:
    """The ids of `$filter=id eq 'a' or id eq 'b'`, lower-cased."""
    name, _, expression = options.partition("=")
    matches = [_ID_EQ.match(p) for p in re.split(r"\s+or\s+", expression)]
    if name.strip().lower() != "$filter" or not all(matches):
        raise bad_request(f"Unsupported $expand option: {options!r}.")
    return frozenset(_unquote(m.group(1)).lower() for m in matches if m)


def item_filter(expression: str | None) -> Callable[[dict[str, Any]], bool]:
    if not expression:
        return lambda _: True
    match = _ANY.match(expression)
    if match:
        wanted_id = _unquote(match.group(2)).lower()
        wanted_value = None if match.group(3) is None else _unquote(match.group(3))

        def has_property(data: dict[str, Any]) -> bool:
            return any(
                p["id"].lower() == wanted_id
                and (wanted_value is None or p["value"] == wanted_value)
                for p in data.get(EXTENDED_PROPERTIES, [])
            )

        return has_property
    match = _EQ.match(expression)
    if match:
        name, value = match.group(1), _unquote(match.group(2))
        return lambda data: data.get(name) == value
    raise GraphError(
        400, "ErrorInvalidUrlQueryFilter", f"The $filter expression is not supported: {expression}"
    )


def merge_extended_properties(data: dict[str, Any], incoming: list[Any]) -> None:
    """Upsert single-value extended properties by id (case-insensitive), as Exchange does."""
    current = {p["id"].lower(): p for p in data.get(EXTENDED_PROPERTIES, [])}
    for prop in incoming:
        if not isinstance(prop, dict) or not isinstance(prop.get("id"), str):
            raise bad_request("Each singleValueExtendedProperty needs an id and a value.")
        if not isinstance(prop.get("value"), str):
            raise bad_request(f"The extended property {prop['id']} needs a string value.")
        current[prop["id"].lower()] = {"id": prop["id"], "value": prop["value"]}
    data[EXTENDED_PROPERTIES] = list(current.values())
