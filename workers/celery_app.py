"""The Celery application: broker configuration from app.kit.jobs, the beat schedule, tasks."""

from __future__ import annotations

from typing import Any

from celery import Celery, signals
from prometheus_client import start_http_server

from app.config import get_settings
from app.kit.jobs import celery_config
from app.kit.logs import configure_logging
from workers.sync.schedule import TICK_SECONDS

app = Celery("crmsync")
app.conf.update(celery_config(get_settings()))
app.conf.imports = ("workers.jobs.sync", "workers.jobs.licensing", "workers.jobs.imports")
app.conf.beat_schedule = {
    # Fans out one sync.user task per user whose interval has come (see workers.jobs.sync).
    "sync-due-users": {
        "task": "sync.due_users",
        "schedule": TICK_SECONDS,
        "options": {"expires": TICK_SECONDS - 5},
    },
    # Closes runs whose worker died (their user's lock expired) and queues them again, well
    # before the broker would redeliver the dead worker's job (its visibility timeout).
    "recover-dead-runs": {
        "task": "sync.recover_dead_runs",
        "schedule": TICK_SECONDS,
        "options": {"expires": TICK_SECONDS - 5},
    },
    # Deletes runs and log entries past each user's retention setting.
    "purge-logs": {
        "task": "maintenance.purge_logs",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Ends licence sessions past their timeout and frees their seats.
    "sweep-license-sessions": {
        "task": "licensing.sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}


@signals.setup_logging.connect
def _configure_logging(loglevel: str | int | None = None, **_: Any) -> None:
    # Connected, this replaces Celery's own logging set-up with crmsync's (text or JSON).
    settings = get_settings()
    configure_logging(loglevel or settings.log_level, settings.log_format)


@signals.worker_init.connect
def _serve_metrics(**_: Any) -> None:
    port = get_settings().worker_metrics_port
    if port:
        start_http_server(port)
