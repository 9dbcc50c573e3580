"""Automatic synchronization: which users are due, queued oldest-due first."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.db import unit_of_work
from app.models.sync import SyncUser
from app.runs.service import queue_run
from app.sync_settings.service import effective_settings

# One beat tick queues at most this many users; the rest, due longest, come first next minute.
MAX_USERS_PER_TICK = 500
# Beat sends sync.due_users this often (workers.celery_app).
TICK_SECONDS = 60.0
# A user is due at a tick that comes up to this much before its next_sync_at. The next sync is
# reckoned from one tick's start, and the following tick may start a little earlier than a full
# interval later (beat's timer, the broker, the worker's pick-up): without this allowance that
# tick finds the user not yet due and an N-minute interval becomes N+1.
DUE_TOLERANCE = timedelta(seconds=TICK_SECONDS / 6)


def queue_due_users(now: datetime) -> int:
    """Queues a run for every enabled user whose interval has come; returns how many."""
    queued = 0
    with unit_of_work() as db:
        due = db.scalars(
            select(SyncUser)
            .where(
                SyncUser.enabled.is_(True),
                SyncUser.suspended.is_(False),
                SyncUser.next_sync_at.is_(None) | (SyncUser.next_sync_at <= now + DUE_TOLERANCE),
            )
            .order_by(SyncUser.next_sync_at.asc().nulls_first(), SyncUser.user_id)
            .limit(MAX_USERS_PER_TICK)
            .with_for_update(skip_locked=True)
        ).all()
        for user in due:
            settings = effective_settings(db, user.user_id)
            user.next_sync_at = now + timedelta(minutes=settings.interval_minutes)
            if settings.auto_sync:
                queue_run(db, user.user_id, trigger="schedule")
                queued += 1
    return queued
