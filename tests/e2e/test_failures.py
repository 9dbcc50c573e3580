"""Errors are classified: permanent ones count towards suspension, transient ones are retried."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models.sync import Alert, RunStatus, SyncUser
from app.sync_control.service import SUSPEND_AFTER_FAILURES
from ews_simulator.testing import SimulatorServer
from tests.factories.users import sync_user
from workers.sync.runner import RunRequest, run_user_sync


@pytest.fixture
def strict_simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(users={"known@example.com": "right"}) as server:
        yield server


def test_bad_credentials_are_permanent_and_suspend_after_repeats(
    database: object, db: Session, strict_simulator: SimulatorServer
) -> None:
    user_id = sync_user(
        db,
        mailbox="known@example.com",
        ews_url=strict_simulator.ews_url,
        auth={"type": "basic", "username": "known@example.com", "password": "wrong"},
    )
    db.commit()
    for _ in range(SUSPEND_AFTER_FAILURES):
        run = run_user_sync(RunRequest(user_id=user_id))
        assert run.status == RunStatus.FAILED
        assert run.failure_kind == "permanent"
        assert "credentials" in (run.message or "")
    db.expire_all()
    user = db.get(SyncUser, user_id)
    assert user is not None and user.suspended
    (alert,) = db.scalars(select(Alert)).all()
    assert alert.kind == "sync_suspended"


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
