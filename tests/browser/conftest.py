"""The task pane in headless Chromium, served by a real crmsync on a loopback port.

Office.js is replaced by a stand-in that records the pane's calls (office_stub.js); the
endpoints other features provide (/filings, /documents) answer what a test queues for them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.browser.cdp import CHROMIUM, Chromium
from tests.browser.live_server import LiveServer
from tests.workers.conftest import committed_database

__all__ = ["committed_database"]  # shared with the worker tests: committed data, then wiped

OFFICE_STUB = Path(__file__).parent / "office_stub.js"
OFFICE_STUB_PATH = "/test/office-stub.js"


@dataclass
class StandIns:
    """Answers queued per path; a path with none queued goes to the real application."""

    answers: dict[str, list[tuple[int, Any]]] = field(default_factory=lambda: defaultdict(list))
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def answer(self, path: str, status: int, body: Any) -> None:
        self.answers[path].append((status, body))

    async def __call__(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path == OFFICE_STUB_PATH:
            return Response(OFFICE_STUB.read_text(), media_type="text/javascript")
        if not self.answers[path]:
            return await call_next(request)
        body = await request.body()
        self.requests.append((request.method, path, json.loads(body) if body else None))
        status, answer = self.answers[path].pop(0)
        return JSONResponse(answer, status_code=status)


@dataclass
class PaneServer:
    url: str
    stand_ins: StandIns


@pytest.fixture(scope="module")
def pane_server(migrated_database: Database) -> Iterator[PaneServer]:
    server = LiveServer()
    settings = Settings(
        public_base_url=server.url,
        office_js_url=f"{server.url}{OFFICE_STUB_PATH}",
        addin_heartbeat_seconds=1,
    )
    app = create_app(settings=settings, database=migrated_database)
    stand_ins = StandIns()
    app.middleware("http")(stand_ins)
    with server.serving(app):
        yield PaneServer(server.url, stand_ins)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser-up (make pytest does)")
    browser = Chromium()
    yield browser
    browser.close()


@pytest.fixture
def browser(
    chromium: Chromium, pane_server: PaneServer, committed_database: Database
) -> Iterator[Chromium]:
    """The browser for one test; leaving the pane afterwards ends its session, as closing it
    does in Outlook, before the test's data is wiped."""
    pane_server.stand_ins.answers.clear()
    pane_server.stand_ins.requests.clear()
    yield chromium
    chromium.open("about:blank")
