"""Thin Celery tasks: argument handling, locks and retries around plain functions."""

from __future__ import annotations

import logging
from typing import Any

from app.config import get_settings
from app.db import unit_of_work
from app.kit.clock import utc_now
from app.kit.jobs import DEFAULT_EXPIRY_SECONDS
from app.kit.sync_terms import RunStatus
from app.runs import service as runs_service
from app.sync_control.service import purge_old_logs
from workers.celery_app import app
from workers.locks import user_lock
from workers.sync.recording import close_skipped_run, queue_retry_run
from workers.sync.runner import RunRequest, UnknownSyncUser, run_user_sync
from workers.sync.schedule import queue_due_users

logger = logging.getLogger("crmsync.tasks")

MAX_TRANSIENT_RETRIES = 5


def retry_delay_seconds(retries: int) -> int:
    """Back-off between retries of a transiently failed run: doubling, at most 15 min."""
    return int(min(get_settings().retry_base_seconds * 2**retries, 900))


@app.task(
    name="sync.user",
    bind=True,
    acks_late=True,
    expires=DEFAULT_EXPIRY_SECONDS,
    max_retries=MAX_TRANSIENT_RETRIES,
)
def sync_user(self: Any, user_id: int, run_id: int | None = None, trigger: str = "manual") -> None:
    with user_lock(user_id) as held:
        if not held:
            _leave_to_lock_holder(user_id, run_id, trigger)
            return
        try:
            run = run_user_sync(RunRequest(user_id=user_id, run_id=run_id, trigger=trigger))
        except UnknownSyncUser:
            logger.warning("user %s is no longer enabled for sync", user_id)
            return
    retries = self.request.retries
    if run.retry_may_help:
        if retries >= MAX_TRANSIENT_RETRIES:
            logger.warning("user %s: giving up after %s retries: %s", user_id, retries, run.message)
            return
        delay = retry_delay_seconds(retries)
        retry_run_id = queue_retry_run(user_id)
        raise self.retry(
            args=[user_id, retry_run_id, "retry"],
            countdown=delay,
            expires=delay + DEFAULT_EXPIRY_SECONDS,
        )


def _leave_to_lock_holder(user_id: int, run_id: int | None, trigger: str) -> None:
    logger.info("user %s is already being synchronized; skipping", user_id)
    if run_id is None:
        return
    if close_skipped_run(run_id, "another run of this user was in progress") == RunStatus.RUNNING:
        # The broker redelivered this job: its worker died before its lock expired, or its run
        # outlasted the visibility timeout. Dropped, a dead worker's run would stay Running and
        # no run of the user could be queued again; so the job comes back once the lock could
        # have expired, and then redoes the run (recorded as a new one, see start_run).
        wait = get_settings().user_lock_seconds
        sync_user.apply_async(
            (user_id, run_id, trigger), countdown=wait, expires=wait + DEFAULT_EXPIRY_SECONDS
        )


@app.task(name="sync.due_users", expires=55)
def sync_due_users() -> int:
    return queue_due_users(utc_now())


@app.task(name="sync.recover_dead_runs", expires=55)
def recover_dead_runs() -> int:
    """Runs left Running by a dead worker are closed as Interrupted and queued again."""
    with unit_of_work() as db:
        recovered = runs_service.recover_dead_runs(db)
    if recovered:
        logger.warning("recovered %s run(s) whose worker had died", recovered)
    return recovered


@app.task(name="maintenance.purge_logs", expires=3600)
def purge_logs() -> int:
    with unit_of_work() as db:
        return purge_old_logs(db, utc_now())
