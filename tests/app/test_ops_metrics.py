"""The API's /metrics reports the sync backlog counted in the database, cached between scrapes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.kit.clock import utc_now
from app.models import Base
from app.models.metrics import StoredCounter
from app.models.sync import Alert, RunStatus, SyncRun, SyncUser
from app.ops import backlog, counters
from tests.factories.users import sync_user
from workers.sync.recording import finish_run


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


def _labelled(client: TestClient, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    families = text_string_to_metric_families(client.get("/metrics").text)
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
        if sample.name == name
    }


def test_run_totals_come_from_the_database(client: TestClient, db: Session) -> None:
    """What workers counted is stored with each finished run, so no worker's death loses it."""
    user_id = sync_user(db)
    items = {"contacts": {"crm_to_outlook": {"created": 3, "updated": 0}}}
    for status, ews_requests in ((RunStatus.SUCCESS, 7), (RunStatus.FAILED, 1)):
        run = SyncRun(user_id=user_id, status=RunStatus.RUNNING, trigger="schedule", counts={})
        db.add(run)
        db.flush()
        run.ews_requests = ews_requests
        finish_run(run, status, items, None)
    db.commit()

    assert _labelled(client, "crmsync_runs_finished_total") == {
        (("status", "Success"),): 1,
        (("status", "Failed"),): 1,
    }
    created = (("direction", "crm_to_outlook"), ("entity", "contacts"), ("outcome", "created"))
    assert _labelled(client, "crmsync_run_items_total") == {created: 6}
    assert _labelled(client, "crmsync_run_ews_requests_total") == {(): 8}


def test_stored_counters_add_up_on_sqlite_too(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'embedded.db'}")
    Base.metadata.create_all(engine, tables=[StoredCounter.__table__])  # type: ignore[list-item]
    with Session(engine) as session:
        samples = counters.run_samples("Success", {"tasks": {"both": {"errors": 2}}}, 4)
        counters.add(session, samples)
        counters.add(session, samples)
        session.commit()
        assert sorted(counters.read_all(session)) == [
            ("ews_requests", "", 8),
            ("items", "direction=both,entity=tasks,outcome=errors", 4),
            ("runs", "status=Success", 2),
        ]
    engine.dispose()
