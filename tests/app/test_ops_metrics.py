"""The API's /metrics reports the sync backlog counted in the database, cached between scrapes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from app.kit.clock import utc_now
from app.models.sync import Alert, RunStatus, SyncRun, SyncUser
from app.ops import backlog
from tests.factories.users import sync_user


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # Counts cached by an earlier test's scrape must not answer this test's.
    monkeypatch.setattr(backlog, "cached_backlog", backlog.CachedBacklog())


def _scrape(client: TestClient) -> dict[str, float]:
    families = text_string_to_metric_families(client.get("/metrics").text)
    return {
        sample.name: sample.value
        for family in families
        for sample in family.samples
        if sample.name.startswith(("crmsync_sync_", "crmsync_alerts_")) and not sample.labels
    }


def _run(db: Session, user_id: int, status: RunStatus, waited: timedelta) -> None:
    run = SyncRun(user_id=user_id, status=status, trigger="schedule", counts={})
    run.queued_at = utc_now() - waited
    db.add(run)


def test_backlog_gauges_count_runs_suspensions_and_alerts(client: TestClient, db: Session) -> None:
    busy, waiting, suspended = sync_user(db), sync_user(db), sync_user(db)
    _run(db, busy, RunStatus.RUNNING, timedelta(minutes=10))
    _run(db, waiting, RunStatus.QUEUED, timedelta(seconds=120))
    _run(db, busy, RunStatus.QUEUED, timedelta(seconds=5))
    _run(db, waiting, RunStatus.SUCCESS, timedelta(hours=1))
    user = db.get(SyncUser, suspended)
    assert user is not None
    user.suspended = True
    db.add(Alert(user_id=suspended, kind="sync_suspended", message="suspended"))
    db.add(Alert(user_id=busy, kind="sync_suspended", message="old", acknowledged_at=utc_now()))
    db.commit()

    metrics = _scrape(client)
    assert metrics["crmsync_sync_runs_in_progress"] == 1
    assert metrics["crmsync_sync_runs_queued"] == 2
    assert 120 <= metrics["crmsync_sync_oldest_queued_run_age_seconds"] < 180
    assert metrics["crmsync_sync_users_suspended"] == 1
    assert metrics["crmsync_alerts_open"] == 1


def test_nothing_queued_reads_as_zero(client: TestClient) -> None:
    metrics = _scrape(client)
    assert metrics["crmsync_sync_runs_queued"] == 0
    assert metrics["crmsync_sync_oldest_queued_run_age_seconds"] == 0


def test_counts_are_cached_between_scrapes(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = sync_user(db)
    db.commit()
    assert _scrape(client)["crmsync_sync_runs_queued"] == 0
    _run(db, user_id, RunStatus.QUEUED, timedelta(0))
    db.commit()
    assert _scrape(client)["crmsync_sync_runs_queued"] == 0, "counted again within the cache"
    monkeypatch.setattr(backlog, "CACHE_SECONDS", 0.0)
    assert _scrape(client)["crmsync_sync_runs_queued"] == 1
