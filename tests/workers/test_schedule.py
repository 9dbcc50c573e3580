"""The beat job queues each enabled, due user once per interval, oldest-due first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.kit import jobs
from app.kit.clock import utc_now
from app.models.sync import RunStatus, SyncRun, SyncUser
from app.sync_settings import service as settings_service
from app.sync_settings.schemas import SettingsPatch
from tests.factories.users import sync_user
from workers.sync.schedule import TICK_SECONDS, queue_due_users


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **_: calls.append((name, *args)))
    return calls


def test_due_users_are_queued_once_per_interval(
    database: Database, db: Session, enqueued: list[tuple[object, ...]]
) -> None:
    due = sync_user(db)
    later = sync_user(db)
    disabled = sync_user(db)
    suspended = sync_user(db)
    now = utc_now()
    db.get(SyncUser, later).next_sync_at = now + timedelta(minutes=5)  # type: ignore[union-attr]
    db.get(SyncUser, disabled).enabled = False  # type: ignore[union-attr]
    db.get(SyncUser, suspended).suspended = True  # type: ignore[union-attr]
    db.commit()

    assert queue_due_users(now) == 1
    assert [call[:2] for call in enqueued] == [("sync.user", due)]
    db.expire_all()
    next_at = db.get(SyncUser, due).next_sync_at  # type: ignore[union-attr]
    assert next_at == now + timedelta(minutes=15)
    assert queue_due_users(now + timedelta(minutes=1)) == 0
    assert queue_due_users(now + timedelta(minutes=6)) == 1  # `later` is due now


def test_auto_sync_off_queues_nothing(
    database: Database, db: Session, enqueued: list[tuple[object, ...]]
) -> None:
    sync_user(db)
    settings_service.update_global(db, SettingsPatch.model_validate({"auto_sync": False}))
    db.commit()
    assert queue_due_users(utc_now()) == 0
    assert enqueued == []


def test_a_run_that_expired_in_the_queue_does_not_block_the_next(
    database: Database, db: Session, enqueued: list[tuple[object, ...]]
) -> None:
    user_id = sync_user(db)
    stale = SyncRun(user_id=user_id, status=RunStatus.QUEUED, trigger="schedule", counts={})
    stale.queued_at = utc_now() - timedelta(hours=1)
    db.add(stale)
    db.commit()
    assert queue_due_users(utc_now()) == 1
    db.expire_all()
    runs = {r.id: r.status for r in db.scalars(select(SyncRun))}
    assert runs[stale.id] == RunStatus.INTERRUPTED
    assert sorted(runs.values()) == [RunStatus.INTERRUPTED, RunStatus.QUEUED]


def test_every_tick_queues_a_user_with_a_one_minute_interval(
    database: Database, db: Session, enqueued: list[tuple[object, ...]]
) -> None:
    user_id = sync_user(db)
    settings_service.update_global(db, SettingsPatch.model_validate({"interval_minutes": 1}))
    db.commit()
    first = utc_now()
    # Beat's ticks are 60 s apart but each one may start a little before a full minute after
    # the previous one (here 4 ms, then by up to a second), which used to skip every other tick.
    early = [timedelta(milliseconds=4), timedelta(milliseconds=4), timedelta(seconds=1)] * 3
    ticks = [first]
    for lead in early:
        ticks.append(ticks[-1] + timedelta(seconds=TICK_SECONDS) - lead)
    queued = []
    for tick in ticks:
        queued.append(queue_due_users(tick))
        # A worker takes each queued run before the next tick; the user stays due.
        db.execute(update(SyncRun).values(status=RunStatus.SUCCESS))
        db.commit()
    assert queued == [1] * 10
    assert [call[:2] for call in enqueued] == [("sync.user", user_id)] * 10
