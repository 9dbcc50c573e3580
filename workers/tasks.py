"""Thin Celery tasks: argument handling, locks and retries around plain functions."""

from __future__ import annotations

import logging

from app.kit.clock import utc_now
from workers.celery_app import app
from workers.locks import user_lock
from workers.sync.recording import close_skipped_run
from workers.sync.runner import RunRequest, UnknownSyncUser, run_user_sync
from workers.sync.schedule import queue_due_users

logger = logging.getLogger("crmsync.tasks")


@app.task(name="sync.user", acks_late=True, expires=600)
def sync_user(user_id: int, run_id: int | None = None, trigger: str = "manual") -> None:
    with user_lock(user_id) as held:
        if not held:
            logger.info("user %s is already being synchronized; skipping", user_id)
            if run_id is not None:
                close_skipped_run(run_id, "another run of this user was in progress")
            return
        try:
            run_user_sync(RunRequest(user_id=user_id, run_id=run_id, trigger=trigger))
        except UnknownSyncUser:
            logger.warning("user %s is no longer enabled for sync", user_id)


@app.task(name="sync.due_users", expires=55)
def sync_due_users() -> int:
    return queue_due_users(utc_now())
