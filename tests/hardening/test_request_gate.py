"""Request bodies refused at the door (app/kit/request_gate.py), in process: how much of a
body the app reads before it answers. The server's memory under a 1 GB body is measured in
test_server_limits.py against a real `crmsync serve`.

The bodies are generators, so a test never holds them; httpx's ASGI transport hands the app
one chunk each time the app asks, and the tests count how many it asked for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database
from app.kit.request_gate import MULTIPART_OVERHEAD_BYTES, PUBLIC_BODY_BYTES, accepts_public_body
from app.main import create_app
from tests.factories.crm_records import company
from tests.factories.headers import user_with_headers

CHUNK = b"\0" * 65536
# Far more than any limit: a server that reads it all before answering fails the test, without
# taking the test process's memory with it (the 1 GB bodies go to the real server).
OFFERED = 64 * 1024 * 1024


class Body:
    """Up to `size` bytes, produced a chunk at a time as the app reads them."""

    def __init__(self, size: int = OFFERED, prefix: bytes = b"") -> None:
        self.size = size
        self.prefix = prefix
        self.produced = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.prefix:
            self.produced += len(self.prefix)
            yield self.prefix
        while self.produced < self.size:
            self.produced += len(CHUNK)
            yield CHUNK


def _send(app: FastAPI, method: str, url: str, **kwargs: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gate.test") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(call())


@pytest.fixture
def gated_app(database: Database) -> FastAPI:
    settings = get_settings().model_copy(
        update={
            "rate_limit_per_minute": 0,
            "max_document_bytes": 100_000,
            "max_message_bytes": 10_000,
        }
    )
    app = create_app(settings=settings, database=database)

    @app.post("/test/public-form")
    @accepts_public_body()
    async def public_form(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    return app


JSON_HEADERS = {"Content-Type": "application/json"}
ROUTES = [
    ("POST", "/api/v1/sessions"),
    ("POST", "/api/v1/users"),
    ("PUT", "/api/v1/settings"),
    ("POST", "/api/v1/documents"),
    ("POST", "/api/v1/filings"),
    ("POST", "/api/v1/imports/contacts"),
    ("POST", "/api/v1/nowhere"),
]


@pytest.mark.parametrize(("method", "url"), ROUTES)
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_a_body_without_a_token_is_refused_unread(
    gated_app: FastAPI, method: str, url: str, framing: str
) -> None:
    body = Body()
    headers = dict(JSON_HEADERS)
    if framing == "content-length":
        headers["Content-Length"] = str(OFFERED)
    response = _send(gated_app, method, url, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert body.produced <= len(CHUNK)


@pytest.mark.parametrize(("method", "url"), ROUTES[:3])
def test_a_json_body_over_the_limit_is_refused_with_a_token(
    gated_app: FastAPI, admin_headers: dict[str, str], method: str, url: str
) -> None:
    limit = get_settings().max_json_body_bytes
    declared = _send(
        gated_app,
        method,
        url,
        content=Body(),
        headers={**admin_headers, **JSON_HEADERS, "Content-Length": str(OFFERED)},
    )
    assert declared.status_code == 413
    assert "CRMSYNC_MAX_JSON_BODY_BYTES" in declared.json()["detail"]
    chunked_body = Body()
    chunked = _send(
        gated_app, method, url, content=chunked_body, headers={**admin_headers, **JSON_HEADERS}
    )
    assert chunked.status_code == 413, chunked.text
    assert "CRMSYNC_MAX_JSON_BODY_BYTES" in chunked.json()["detail"]
    assert chunked_body.produced <= limit + len(CHUNK)


def _multipart_head(field: str, filename: str) -> bytes:
    return (
        f'--b\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("url", "field", "setting", "limit"),
    [
        ("/api/v1/documents", "file", "CRMSYNC_MAX_DOCUMENT_BYTES", 100_000),
        ("/api/v1/filings", "files", "CRMSYNC_MAX_UPLOAD_TOTAL_BYTES", 40_000),
    ],
)
def test_an_upload_is_refused_once_past_its_setting(
    gated_app: FastAPI,
    admin_headers: dict[str, str],
    url: str,
    field: str,
    setting: str,
    limit: int,
) -> None:
    body = Body(prefix=_multipart_head(field, "big.bin"))
    response = _send(
        gated_app,
        "POST",
        url,
        content=body,
        headers={**admin_headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413, response.text
    assert setting in response.json()["detail"]
    assert body.produced <= limit + MULTIPART_OVERHEAD_BYTES + len(CHUNK)


def test_many_emails_each_within_the_limit_are_refused_together(
    gated_app: FastAPI, db: Session
) -> None:
    _user_id, headers = user_with_headers(db, "filer")
    target = company(db, "Acme")
    db.commit()
    email = b"From: a@example.com\r\nSubject: s\r\n\r\n" + b"x" * 9_000
    files = [("files", (f"m{n}.eml", email, "message/rfc822")) for n in range(5)]
    data = {"targets": json.dumps([{"entity": "company", "id": target}])}
    response = _send(gated_app, "POST", "/api/v1/filings", headers=headers, files=files, data=data)
    assert response.status_code == 413, response.text
    assert "CRMSYNC_MAX_UPLOAD_TOTAL_BYTES" in response.json()["detail"]


def test_a_route_declared_public_takes_a_small_body_without_a_token(gated_app: FastAPI) -> None:
    small = _send(gated_app, "POST", "/test/public-form", content=b"x" * 1000)
    assert small.status_code == 200
    assert small.json() == {"read": 1000}
    too_big = _send(gated_app, "POST", "/test/public-form", content=b"x" * (PUBLIC_BODY_BYTES + 1))
    assert too_big.status_code == 413
    body = Body()
    streamed = _send(gated_app, "POST", "/test/public-form", content=body)
    assert streamed.status_code == 413
    assert body.produced <= PUBLIC_BODY_BYTES + len(CHUNK)


def test_requests_without_a_body_need_no_token_at_the_door(gated_app: FastAPI) -> None:
    assert _send(gated_app, "GET", "/health").status_code == 200
    # The route's own dependency answers, with its own message.
    refused = _send(gated_app, "GET", "/api/v1/users/me")
    assert refused.status_code == 401
    assert "missing Authorization header" in refused.json()["detail"]
