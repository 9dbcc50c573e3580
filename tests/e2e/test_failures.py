"""Errors are classified: permanent ones count towards suspension, transient ones are retried."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.kit.logs import formatter
from app.models.sync import Alert, RunStatus, SyncRun, SyncUser
from app.sync_control.service import SUSPEND_AFTER_FAILURES
from ews_simulator.testing import SimulatorServer
from tests.factories.users import sync_user
from workers.sync.runner import RunRequest, run_user_sync


@pytest.fixture
def strict_simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(users={"known@example.com": "right"}) as server:
        yield server


def test_bad_credentials_are_permanent_alert_and_suspend_after_repeats(
    database: object,
    db: Session,
    strict_simulator: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user_id = sync_user(
        db,
        mailbox="known@example.com",
        ews_url=strict_simulator.ews_url,
        auth={"type": "basic", "username": "known@example.com", "password": "wrong"},
    )
    db.commit()
    caplog.set_level(logging.INFO, logger="crmsync")
    kinds_after_each_run = []
    for _ in range(SUSPEND_AFTER_FAILURES):
        run = run_user_sync(RunRequest(user_id=user_id))
        assert run.status == RunStatus.FAILED
        assert run.failure_kind == "permanent"
        assert "credentials" in (run.message or "")
        db.expire_all()
        user = db.get(SyncUser, user_id)
        assert user is not None
        # The reason is there exactly when the suspension is.
        assert (user.suspended_reason is not None) == user.suspended
        kinds_after_each_run.append(sorted(a.kind for a in db.scalars(select(Alert))))
    assert kinds_after_each_run == [
        [],
        ["authentication_failed"],
        ["authentication_failed", "sync_suspended"],
    ]
    assert user.suspended
    # One line per run with its classified reason, and no traceback above DEBUG.
    lines = [r for r in caplog.records if r.name == "crmsync.sync"]
    assert len(lines) == SUSPEND_AFTER_FAILURES
    assert all("refused the credentials" in r.getMessage() for r in lines)
    assert all(r.exc_info is None for r in caplog.records if r.levelno > logging.DEBUG)
    # As CRMSYNC_LOG_FORMAT=json writes it: the same facts as fields.
    record = json.loads(formatter("json").format(lines[-1]))
    assert record["event"] == "sync_run" and record["outcome"] == "Failed"
    assert record["user_id"] == user_id and record["failure_kind"] == "permanent"
    assert "credentials" in record["reason"] and record["ews_requests"] >= 1


def test_unreachable_server_is_transient_and_never_suspends(
    database: object, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "ews_timeout_seconds", 1)
    user_id = sync_user(db, ews_url="http://127.0.0.1:9/EWS/Exchange.asmx")
    db.commit()
    for _ in range(SUSPEND_AFTER_FAILURES + 1):
        run = run_user_sync(RunRequest(user_id=user_id))
        assert (run.status, run.failure_kind) == (RunStatus.FAILED, "transient")
    db.expire_all()
    user = db.get(SyncUser, user_id)
    assert user is not None and not user.suspended and user.consecutive_failures == 0


def test_a_suspended_users_queued_run_is_one_line_and_a_forced_one_goes_ahead(
    database: object,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(get_settings(), "ews_timeout_seconds", 1)
    user_id = sync_user(db, ews_url="http://127.0.0.1:9/EWS/Exchange.asmx")
    user = db.get(SyncUser, user_id)
    assert user is not None
    user.suspended, user.suspended_reason = True, "suspended by an administrator"
    queued = SyncRun(user_id=user_id, status=RunStatus.QUEUED, trigger="manual", counts={})
    forced = SyncRun(user_id=user_id, status=RunStatus.QUEUED, trigger="forced", counts={})
    db.add_all([queued, forced])
    db.commit()
    caplog.set_level(logging.INFO, logger="crmsync")

    skipped = run_user_sync(RunRequest(user_id=user_id, run_id=queued.id))
    assert skipped.status == RunStatus.INTERRUPTED and skipped.ews_requests == 0
    assert "suspended" in (skipped.message or "")
    (line,) = [r for r in caplog.records if r.name == "crmsync.sync"]
    assert line.levelno == logging.INFO and line.exc_info is None
    assert "suspended by an administrator" in line.getMessage()

    tried = run_user_sync(RunRequest(user_id=user_id, run_id=forced.id))
    assert (tried.status, tried.failure_kind) == (RunStatus.FAILED, "transient")
