"""The HTTP layer under exchangelib: every EWS request is metered and held to politeness caps,
and verified against crmsync's trusted CAs (the public ones plus CRMSYNC_CA_BUNDLE)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from exchangelib.protocol import BaseProtocol
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from app.kit.tls import trusted_ca_file
from workers.connectors.ews.politeness import ews_slot
from workers.metrics import EWS_ERRORS, EWS_LATENCY, EWS_REQUESTS


@dataclass
class RequestCount:
    value: int = 0


_requests_of_this_run: ContextVar[RequestCount | None] = ContextVar("ews_requests", default=None)


@contextmanager
def counting_requests() -> Iterator[RequestCount]:
    """Counts the EWS requests this thread sends inside the block (one run's requests)."""
    count = RequestCount()
    token = _requests_of_this_run.set(count)
    try:
        yield count
    finally:
        _requests_of_this_run.reset(token)


_OPERATION = re.compile(rb"<s:Body>\s*<m:(\w+)")


def operation_of(body: bytes | str | None) -> str:
    if body is None:
        return "unknown"
    raw = body.encode() if isinstance(body, str) else body
    match = _OPERATION.search(raw[:4096])
    return match.group(1).decode() if match else "unknown"


class _ChunkedResponse(Response):
    """Reads the body 64 KiB at a time where exchangelib asks for `iter_content()`.

    exchangelib parses responses from `response.iter_content()`, whose default chunk is one
    byte: on a large SyncFolderItems page that is millions of Python calls.
    """

    def iter_content(self, chunk_size: int | None = 65536, decode_unicode: bool = False) -> Any:
        return super().iter_content(chunk_size=chunk_size, decode_unicode=decode_unicode)


class TrustingAdapter(HTTPAdapter):
    """Verifies servers against crmsync's trusted CAs, whatever REQUESTS_CA_BUNDLE says.

    requests lets that environment variable replace the CAs a session was given; crmsync's
    trust is configured in one place, CRMSYNC_CA_BUNDLE.
    """

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        if kwargs.get("verify") is not False:
            kwargs["verify"] = trusted_ca_file()
        return super().send(request, *args, **kwargs)


class PoliteAdapter(TrustingAdapter):
    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        operation = operation_of(request.body)
        server = urlsplit(request.url or "").hostname or "unknown"
        with ews_slot(server, request.headers.get("X-AnchorMailbox")):
            started = time.perf_counter()
            try:
                response = super().send(request, *args, **kwargs)
            except Exception as exc:
                EWS_ERRORS.labels(operation, type(exc).__name__).inc()
                raise
            finally:
                EWS_REQUESTS.labels(operation).inc()
                run_count = _requests_of_this_run.get()
                if run_count is not None:
                    run_count.value += 1
                EWS_LATENCY.labels(operation).observe(time.perf_counter() - started)
        if response.status_code >= 400:
            EWS_ERRORS.labels(operation, f"http_{response.status_code}").inc()
        response.__class__ = _ChunkedResponse
        return response


def install() -> None:
    """Makes exchangelib send every request through PoliteAdapter (once per process)."""
    BaseProtocol.HTTP_ADAPTER_CLS = PoliteAdapter
