"""Thin Celery tasks for licence seats."""

from __future__ import annotations

import logging

from app.db import unit_of_work
from app.licensing.service import sweep_expired_sessions
from workers.celery_app import app

logger = logging.getLogger("crmsync.tasks")


@app.task(name="licensing.sweep", acks_late=True, expires=55)
def sweep_license_sessions() -> int:
    """Ends sessions past their timeout and frees their seats; beat runs it every minute."""
    with unit_of_work() as db:
        ended = sweep_expired_sessions(db)
    if ended:
        logger.info("ended %d expired licence session(s)", ended)
    return ended
