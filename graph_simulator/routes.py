"""The route table of the `/v1.0/users/{id}` API and what each handler receives."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph_simulator.delta import Deltas
from graph_simulator.odata import Request, Response
from graph_simulator.store import Mailbox, Store


@dataclass
class Call:
    request: Request
    mailbox: Mailbox
    params: dict[str, str]
    store: Store
    deltas: Deltas
    uploads: dict[str, Any]

    def scope(self, collection: str) -> str:
        return f"{self.mailbox.smtp}|{collection}"


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler


ROUTES: list[Route] = []


def route(method: str, template: str, operation: str) -> Callable[[Handler], Handler]:
    """Registers a handler for a path below /users/{id}; `{name}` matches one segment."""
    regex = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{\w+\})", template)
    )

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(f"^{regex}$", re.IGNORECASE), operation, handler))
        return handler

    return register


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a method and a path relative to the user, with its parameters."""
    for candidate in ROUTES:
        match = candidate.pattern.match(path)
        if match is not None and candidate.method == method:
            return candidate, match.groupdict()
    return None
