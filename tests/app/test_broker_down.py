"""The broker down: a manual sync answers 503 with the reason, leaves no run behind, and works
again by itself once the broker is back (no restart, no cache to clear)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.kit import jobs
from app.models.sync import RunStatus, SyncRun
from tests.conftest import TEST_REDIS_URL
from tests.factories.headers import user_with_headers
from tests.factories.tcp_proxy import SwitchableProxy


@pytest.fixture
def broker_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[SwitchableProxy]:
    """The API's broker URL points at a proxy of the test Redis, down until the test says."""
    real = urlsplit(TEST_REDIS_URL)
    proxy = SwitchableProxy((real.hostname or "127.0.0.1", real.port or 6379))
    settings = get_settings().model_copy(
        update={"broker_url": f"redis://127.0.0.1:{proxy.port}{real.path}"}
    )
    monkeypatch.setattr(jobs, "get_settings", lambda: settings)
    jobs._producer.cache_clear()
    try:
        yield proxy
    finally:
        proxy.down()
        jobs._producer.cache_clear()


def _runs(db: Session, user_id: int) -> list[SyncRun]:
    db.expire_all()
    return list(db.scalars(select(SyncRun).where(SyncRun.user_id == user_id)))


def test_sync_with_the_broker_down_is_503_leaves_no_run_and_recovers(
    client: TestClient, db: Session, broker_proxy: SwitchableProxy
) -> None:
    user_id, headers = user_with_headers(db, "brokerless")

    for params in ({}, {"wait": "true"}):
        refused = client.post(f"/api/v1/users/{user_id}/sync", params=params, headers=headers)
        assert refused.status_code == 503, refused.text
        assert "broker is unreachable" in refused.json()["detail"]
        assert "Connection refused" in refused.json()["detail"]
        assert _runs(db, user_id) == []

    broker_proxy.up()
    queued = client.post(f"/api/v1/users/{user_id}/sync", headers=headers)
    assert queued.status_code == 202, queued.text
    (run,) = _runs(db, user_id)
    assert (run.id, run.status) == (queued.json()["run_id"], RunStatus.QUEUED)
    broker = redis.Redis.from_url(TEST_REDIS_URL)
    queue = get_settings().queue_name
    try:
        assert broker.llen(queue) == 1
    finally:
        broker.delete(queue)

    # Down again mid-life: the cached connection is dead, and the answer is the same.
    broker_proxy.down()
    run.status = RunStatus.SUCCESS
    db.commit()
    again = client.post(f"/api/v1/users/{user_id}/sync", headers=headers)
    assert again.status_code == 503, again.text
    assert [r.status for r in _runs(db, user_id)] == [RunStatus.SUCCESS]
