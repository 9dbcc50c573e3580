"""A run left Running by a dead worker (its user's lock expired) is closed as Interrupted and
replaced: by a manual sync, by a caller waiting on it, and by the scheduler's sweep. A run
whose lock is held is alive and left alone. (tests/workers/test_dead_worker.py kills a real
worker.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import commit
from app.kit.clock import utc_now
from app.kit.user_locks import redis_lock_name
from app.models.sync import RunStatus, SyncRun
from app.runs import service as runs_service
from tests.conftest import TEST_REDIS_URL
from tests.factories.headers import user_with_headers


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    jobs: list[tuple[Any, ...]] = []
    monkeypatch.setattr("app.kit.jobs.enqueue", lambda name, *args, **_: jobs.append(args))
    return jobs


@pytest.fixture
def locks() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    yield client
    for key in client.scan_iter(redis_lock_name(get_settings(), 0).replace(":0", ":*")):
        client.delete(key)


def _running(db: Session, user_id: int) -> SyncRun:
    run = SyncRun(user_id=user_id, status=RunStatus.RUNNING, trigger="schedule", counts={})
    run.started_at = utc_now()
    db.add(run)
    db.commit()
    return run


def _hold_lock(locks: redis.Redis, user_id: int) -> None:
    locks.set(redis_lock_name(get_settings(), user_id), "live-worker", px=60_000)


def _runs(db: Session, user_id: int) -> list[SyncRun]:
    db.expire_all()
    return list(db.scalars(select(SyncRun).where(SyncRun.user_id == user_id).order_by(SyncRun.id)))


def test_manual_sync_replaces_a_dead_run_but_returns_a_live_one(
    client: TestClient, db: Session, locks: redis.Redis, enqueued: list[tuple[Any, ...]]
) -> None:
    user_id, headers = user_with_headers(db, "stalled")
    dead = _running(db, user_id)
    response = client.post(f"/api/v1/users/{user_id}/sync", headers=headers)
    assert response.status_code == 202
    new_id = response.json()["run_id"]
    assert new_id != dead.id
    old, new = _runs(db, user_id)
    assert old.status == RunStatus.INTERRUPTED
    assert old.message == f"{runs_service.ABANDONED_MESSAGE}; run {new_id} replaces it"
    assert old.finished_at is not None
    assert (new.id, new.status, new.trigger) == (new_id, RunStatus.QUEUED, "manual")
    assert enqueued == [(user_id, new_id)]

    new.status = RunStatus.RUNNING
    db.commit()
    _hold_lock(locks, user_id)
    again = client.post(f"/api/v1/users/{user_id}/sync", headers=headers)
    assert again.json()["run_id"] == new_id
    assert [r.status for r in _runs(db, user_id)] == [RunStatus.INTERRUPTED, RunStatus.RUNNING]


def test_a_wait_on_a_run_whose_worker_dies_ends_with_it_interrupted(
    client: TestClient,
    db: Session,
    locks: redis.Redis,
    enqueued: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id, headers = user_with_headers(db, "waiter")
    dead = _running(db, user_id)
    _hold_lock(locks, user_id)
    polls = 0

    def worker_dies_while_waiting(db: Session, run_id: int) -> Any:
        nonlocal polls
        polls += 1
        if polls == 3:  # the worker dies: nobody renews its lock
            locks.delete(redis_lock_name(get_settings(), user_id))
        return read(db, run_id)

    read = runs_service.read_while_waiting
    monkeypatch.setattr(runs_service, "read_while_waiting", worker_dies_while_waiting)
    response = client.post(
        f"/api/v1/users/{user_id}/sync", params={"wait": "true"}, headers=headers
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["run_id"], body["status"]) == (dead.id, "Interrupted")
    (_old, replacement) = _runs(db, user_id)
    assert (replacement.status, replacement.trigger) == (RunStatus.QUEUED, "recovery")
    assert body["message"] == f"{runs_service.ABANDONED_MESSAGE}; run {replacement.id} replaces it"
    assert 3 <= polls < 10


def test_the_sweep_recovers_dead_runs_only(
    db: Session, locks: redis.Redis, enqueued: list[tuple[Any, ...]]
) -> None:
    dead_user, _ = user_with_headers(db, "dead")
    live_user, _ = user_with_headers(db, "live")
    dead, live = _running(db, dead_user), _running(db, live_user)
    _hold_lock(locks, live_user)

    assert runs_service.recover_dead_runs(db) == 1
    commit(db)  # enqueues on commit
    closed, queued = _runs(db, dead_user)
    assert (closed.id, closed.status) == (dead.id, RunStatus.INTERRUPTED)
    assert (queued.status, queued.trigger) == (RunStatus.QUEUED, "recovery")
    assert enqueued == [(dead_user, queued.id)]
    assert [(r.id, r.status) for r in _runs(db, live_user)] == [(live.id, RunStatus.RUNNING)]
    assert runs_service.recover_dead_runs(db) == 0


def test_without_redis_a_run_is_never_taken_for_dead(
    db: Session, enqueued: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, _ = user_with_headers(db, "blind")
    _running(db, user_id)
    unreachable = get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    monkeypatch.setattr("app.kit.user_locks.get_settings", lambda: unreachable)
    assert runs_service.recover_dead_runs(db) == 0
    assert enqueued == []
