"""Enqueuing background jobs by task name; the API never imports the workers' code."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError

from app.config import Settings, get_settings
from app.kit.errors import AppError


class BrokerUnavailable(AppError):
    """The job could not be handed to the broker; nothing will run it."""

    status_code = 503


# Every job carries an expiry so a backlog after an outage does not replay stale work.
DEFAULT_EXPIRY_SECONDS = 600


def celery_config(settings: Settings) -> dict[str, Any]:
    """Broker configuration shared by the API (producer) and the workers (consumers)."""
    config: dict[str, Any] = {
        "broker_url": settings.effective_broker_url,
        "task_default_queue": settings.queue_name,
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
    }
    if settings.embedded:
        # kombu's SQLAlchemy transport hands its options to create_engine: the API, the worker
        # and the scheduler share one SQLite file, so a writer waits for another, not fails.
        config["broker_transport_options"] = {"connect_args": {"timeout": 30}}
    else:
        # acks_late: a message is redelivered only after this long without an ack.
        config["broker_transport_options"] = {
            "visibility_timeout": settings.broker_visibility_timeout
        }
    return config


@lru_cache(maxsize=1)
def _producer() -> Celery:
    producer = Celery("crmsync-api")
    producer.conf.update(celery_config(get_settings()))
    return producer


def enqueue(task_name: str, *args: Any, expires: int = DEFAULT_EXPIRY_SECONDS) -> None:
    """Hands a job to the broker, or raises BrokerUnavailable saying why it could not.

    Nothing is kept from a failed attempt: the next call connects afresh, so the API recovers
    by itself once the broker is back.
    """
    try:
        _producer().send_task(task_name, args=list(args), expires=expires)
    except OperationalError as exc:
        raise BrokerUnavailable(
            f"the job broker is unreachable ({exc}); nothing was queued, try again later"
        ) from exc
