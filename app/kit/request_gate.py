"""Request bodies refused at the door: a credential first, then at most each route's size.

FastAPI reads a declared body before it runs any dependency, so a check in a dependency comes
after a 1 GB body was read into memory. This ASGI middleware runs before FastAPI: a request
that carries a body (a Content-Length above 0, or a chunked one) is answered

- 401 at once, unread, when it has no bearer token and its route takes no public body;
- 413 at once, unread, when its Content-Length exceeds the route's limit;
- 413 as soon as a chunked body grows past the limit (the app reading it gets the 413 error
  instead of the next chunk, and the rest is never read).

Every route takes at most CRMSYNC_MAX_JSON_BODY_BYTES unless its endpoint declares otherwise:
`@accepts_upload(...)` for file uploads, limited by their upload setting, and
`@accepts_public_body()` for the few routes that take a small body without a credential (a
sign-in form, a webhook). The token itself is checked later, by the route's dependencies; here
only its presence, so an unauthenticated client cannot make the server read anything large.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

# Room for a multipart body's boundaries, part headers and small form fields around the files.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
PUBLIC_BODY_BYTES = 4 * 1024

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


@dataclass(frozen=True)
class BodyPolicy:
    limit: Callable[[Settings], int]
    # Named in the 413, so the client's admin knows what to raise.
    setting: str
    needs_credential: bool = True


JSON_BODY = BodyPolicy(lambda settings: settings.max_json_body_bytes, "CRMSYNC_MAX_JSON_BODY_BYTES")

_POLICY_ATTRIBUTE = "__crmsync_body_policy__"


def _declare(policy: BodyPolicy) -> Callable[[EndpointT], EndpointT]:
    def declare(endpoint: EndpointT) -> EndpointT:
        setattr(endpoint, _POLICY_ATTRIBUTE, policy)
        return endpoint

    return declare


def accepts_upload(
    file_limit: Callable[[Settings], int], setting: str
) -> Callable[[EndpointT], EndpointT]:
    """The route takes multipart uploads of up to `file_limit` bytes (plus their framing)."""
    return _declare(
        BodyPolicy(lambda settings: file_limit(settings) + MULTIPART_OVERHEAD_BYTES, setting)
    )


def accepts_public_body(max_bytes: int = PUBLIC_BODY_BYTES) -> Callable[[EndpointT], EndpointT]:
    """The route takes a small body without a credential (it authenticates by other means)."""
    return _declare(
        BodyPolicy(lambda _settings: max_bytes, "a public route's limit", needs_credential=False)
    )


class BodyTooLarge(HTTPException):
    """Raised into the app's read of the body; FastAPI passes HTTPExceptions on, and the app's
    handlers answer 413."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(
            status_code=413,
            detail=f"request body larger than the {limit:,} bytes this route takes ({setting})",
        )


def _has_bearer_token(headers: Headers) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _declared_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


class RequestGate:
    def __init__(self, app: ASGIApp, settings: Settings, routes_of: Callable[[], list[Any]]):
        self.app = app
        self.settings = settings
        self._routes_of = routes_of
        self._table: list[tuple[re.Pattern[str], set[str], BodyPolicy]] | None = None

    def _policies(self) -> list[tuple[re.Pattern[str], set[str], BodyPolicy]]:
        # Built on the first request: routes are all included by then.
        if self._table is None:
            self._table = [
                (context.path_regex, context.methods or set(), policy)
                for context in iter_route_contexts(self._routes_of())
                if (policy := getattr(context.endpoint, _POLICY_ATTRIBUTE, None)) is not None
            ]
        return self._table

    def policy_for(self, method: str, path: str) -> BodyPolicy:
        for pattern, methods, policy in self._policies():
            if method in methods and pattern.match(path):
                return policy
        return JSON_BODY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = _declared_length(headers)
        chunked = "transfer-encoding" in headers
        if not chunked and not length:
            await self.app(scope, receive, send)
            return
        policy = self.policy_for(scope["method"], scope["path"])
        if policy.needs_credential and not _has_bearer_token(headers):
            refusal = JSONResponse(
                {"detail": "a request with a body needs 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await refusal(scope, receive, send)
            return
        limit = policy.limit(self.settings)
        too_large = BodyTooLarge(limit, policy.setting)
        if length is not None and length > limit:
            await JSONResponse({"detail": too_large.detail}, status_code=413)(scope, receive, send)
            return
        await self._limited(scope, receive, send, limit, too_large)

    async def _limited(
        self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: BodyTooLarge
    ) -> None:
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as exc:
            # The app let it through (it read the body outside its error handlers).
            if exc is not too_large or started:
                raise
            await JSONResponse({"detail": exc.detail}, status_code=413)(scope, receive, send)
