"""The FastAPI application: routers, error mapping, metrics middleware."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.addin import endpoints as addin_endpoints
from app.auth import endpoints as auth_endpoints
from app.config import Settings, get_settings
from app.conflicts import endpoints as conflicts_endpoints
from app.connections import endpoints as connections_endpoints
from app.crm_records import endpoints as crm_records_endpoints
from app.db import Database, get_database
from app.documents import endpoints as documents_endpoints
from app.exclusions import endpoints as exclusions_endpoints
from app.filings import endpoints as filings_endpoints
from app.filings.mailbox import MailboxMessages, NoMailbox
from app.imports import endpoints as imports_endpoints
from app.kit import log_redaction
from app.kit.caller_slots import CallerSlots
from app.kit.client_address import ClientAddress
from app.kit.errors import AppError
from app.kit.rate_limit import RateLimiter
from app.kit.request_gate import RequestGate
from app.licensing import endpoints as licensing_endpoints
from app.mappings import endpoints as mappings_endpoints
from app.ops import endpoints as ops_endpoints
from app.ops.metrics import HTTP_LATENCY, HTTP_REQUESTS
from app.runs import endpoints as runs_endpoints
from app.sync_control import endpoints as sync_control_endpoints
from app.sync_settings import endpoints as sync_settings_endpoints
from app.templates import endpoints as templates_endpoints
from app.users import endpoints as users_endpoints
from app.users.connection import MailboxProbe, NoProbe

API_PREFIX = "/api/v1"

logger = logging.getLogger("crmsync.api")


class ValidationProblem(BaseModel):
    loc: str
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """A 422: `detail` for people; `errors` for programs (absent when a service refused)."""

    detail: str
    errors: list[ValidationProblem] = []


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        ValidationProblem(loc=_location(tuple(error["loc"])), msg=error["msg"], type=error["type"])
        for error in exc.errors()
    ]
    detail = "; ".join(f"{p.loc}: {p.msg}" for p in problems)
    body = ValidationErrorBody(detail=detail, errors=problems)
    return JSONResponse(body.model_dump(), status_code=422)


def _document_validation_errors(app: FastAPI) -> None:
    """Every operation's 422 refers to FastAPI's HTTPValidationError component; make it describe
    the body _validation_error really sends, so clients and schema checks can rely on it."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        components = document["components"]["schemas"]
        body = ValidationErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs"))
        components["HTTPValidationError"] = body
        del components["ValidationError"]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=exc.response_headers()
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _out_of_range(_request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value the request carried (an id beyond its integer range, a NUL
    in a text): invalid input, not a server fault."""
    assert isinstance(exc, DataError)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    body = ValidationErrorBody(detail=f"a value in the request cannot be stored: {reason}")
    return JSONResponse(body.model_dump(), status_code=422)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": "internal error; the server log has the details"}, status_code=500
    )


class RequestMetrics:
    """Counts and times every request by its route template (pure ASGI: a body the app reads
    streams through untouched, and errors raised while reading it stay plain exceptions)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], template, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    mailbox_probe: MailboxProbe | None = None,
    mailbox_messages: MailboxMessages | None = None,
) -> FastAPI:
    log_redaction.install()
    app = FastAPI(
        title="crmsync",
        version="0.1.0",
        description="Server-side synchronization between a Sage CRM database and Exchange.",
    )
    app.state.settings = settings or get_settings()
    app.state.database = database or get_database()
    app.state.mailbox_probe = mailbox_probe or NoProbe()
    app.state.mailbox_messages = mailbox_messages or NoMailbox()
    app.state.rate_limiter = RateLimiter.from_settings(app.state.settings)
    app.state.sync_waits = CallerSlots(
        app.state.settings.max_sync_waits_per_caller,
        "syncs waited for",
        "CRMSYNC_MAX_SYNC_WAITS_PER_CALLER",
    )

    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(Exception, _unexpected_error)
    # Middleware added last runs first: the client's own address for every later layer, then
    # the metrics (refusals at the gate count too), then the gate before any body is read.
    app.add_middleware(RequestGate, settings=app.state.settings, routes_of=lambda: app.routes)
    app.add_middleware(RequestMetrics)
    app.add_middleware(ClientAddress, trusted_proxies=app.state.settings.trusted_proxies)
    _document_validation_errors(app)

    app.include_router(ops_endpoints.router)
    app.include_router(addin_endpoints.pages)
    app.mount(
        "/addin/static", StaticFiles(directory=addin_endpoints.STATIC_DIR), name="addin-static"
    )
    for router in (
        auth_endpoints.router,
        connections_endpoints.router,
        users_endpoints.router,
        runs_endpoints.router,
        sync_control_endpoints.router,
        sync_settings_endpoints.router,
        mappings_endpoints.router,
        templates_endpoints.router,
        exclusions_endpoints.router,
        conflicts_endpoints.router,
        licensing_endpoints.router,
        crm_records_endpoints.router,
        addin_endpoints.router,
        imports_endpoints.router,
        filings_endpoints.router,
        documents_endpoints.router,
        documents_endpoints.drafts,
    ):
        app.include_router(router, prefix=API_PREFIX)
    return app
