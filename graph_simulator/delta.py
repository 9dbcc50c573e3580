"""Delta queries: rounds of pages linked by `@odata.nextLink`, ended by `@odata.deltaLink`.

A delta token names a server-side snapshot ({item id: changeKey}) taken when its round ended,
together with the query options of the round's first request (Graph encodes those into its
tokens, so later requests carry only the token). The next round returns the items that are new
or changed since the snapshot and `@removed` entries for those gone. Tokens of an earlier store
generation (after /_sim/reset) or unknown ones answer 410 syncStateNotFound, as an expired
Exchange sync state does.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph_simulator.odata import GraphError, Request, Response

# id -> (changeKey, the item as the round's options show it)
Current = dict[str, tuple[str, dict[str, Any]]]
Collect = Callable[[dict[str, str]], Current]
TOKEN_PARAMETERS = ("$deltatoken", "$skiptoken")


@dataclass
class _Snapshot:
    generation: str
    scope: str
    seen: dict[str, str]
    options: dict[str, str]


@dataclass
class _Round:
    generation: str
    scope: str
    remaining: list[dict[str, Any]]
    page_size: int
    snapshot: _Snapshot


def sync_state_not_found() -> GraphError:
    return GraphError(
        410,
        "syncStateNotFound",
        "The sync state generation is not found. Restart the sync with a new delta query.",
    )


class Deltas:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[str, _Snapshot] = {}
        self._rounds: dict[str, _Round] = {}

    def clear(self) -> None:
        with self._lock:
            self._snapshots.clear()
            self._rounds.clear()

    def serve(
        self, request: Request, scope: str, generation: str, collect: Collect, default_page: int
    ) -> Response:
        skip = request.query.get("$skiptoken")
        if skip is not None:
            with self._lock:
                found = self._rounds.pop(skip, None)
            if found is None or found.generation != generation or found.scope != scope:
                raise sync_state_not_found()
            return self._page(request, found)
        token = request.query.get("$deltatoken")
        if token is not None:
            with self._lock:
                snapshot = self._snapshots.get(token)
            if snapshot is None or snapshot.generation != generation or snapshot.scope != scope:
                raise sync_state_not_found()
            options, seen = snapshot.options, snapshot.seen
        else:
            options = {k: v for k, v in request.query.items() if k not in TOKEN_PARAMETERS}
            seen = {}
        current = collect(options)
        changes = [shown for item_id, (key, shown) in current.items() if seen.get(item_id) != key]
        changes += [
            {"id": item_id, "@removed": {"reason": "deleted"}}
            for item_id in seen
            if item_id not in current
        ]
        snapshot = _Snapshot(
            generation, scope, {i: key for i, (key, _) in current.items()}, options
        )
        page = _Round(generation, scope, changes, request.page_size(default_page), snapshot)
        return self._page(request, page)

    def _page(self, request: Request, round_: _Round) -> Response:
        shown, round_.remaining = (
            round_.remaining[: round_.page_size],
            round_.remaining[round_.page_size :],
        )
        body: dict[str, Any] = {"value": shown}
        link_base = f"{request.base_url}/v1.0{request.path}?"
        with self._lock:
            if round_.remaining:
                skip = secrets.token_urlsafe(16)
                self._rounds[skip] = round_
                body["@odata.nextLink"] = f"{link_base}$skiptoken={skip}"
            else:
                token = secrets.token_urlsafe(16)
                self._snapshots[token] = round_.snapshot
                body["@odata.deltaLink"] = f"{link_base}$deltatoken={token}"
        headers = {}
        if "odata.maxpagesize" in request.prefer():
            headers["Preference-Applied"] = f"odata.maxpagesize={round_.page_size}"
        return Response(200, body, headers)

    def forget(self, token: str) -> bool:
        with self._lock:
            return self._snapshots.pop(token, None) is not None
