"""Health and metrics, outside the versioned API."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from kombu import Connection
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.kit.rate_limit import RateLimiter
from app.ops import backlog

router = APIRouter(tags=["operations"])


def _check_database(database: Database) -> str:
    try:
        for engine in {database.engine, database.crm_engine}:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _check_broker(settings: Settings) -> str:
    try:
        with Connection(settings.effective_broker_url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"unreachable: {type(exc).__name__}"
    return "ok"


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """503 when the database or the broker is unreachable: the API cannot do its work. Rate
    limits counted per process (Redis unreachable) make the status "degraded", answered 200:
    the API still serves, but a load balancer's operator should know."""
    limiter: RateLimiter = request.app.state.rate_limiter
    checks = {
        "database": _check_database(request.app.state.database),
        "broker": _check_broker(request.app.state.settings),
    }
    serving = all(value == "ok" for value in checks.values())
    checks["rate_limits"] = limiter.mode()
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status_code=200 if serving else 503,
    )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    backlog.publish(request.app.state.database)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
