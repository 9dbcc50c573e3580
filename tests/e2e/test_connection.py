"""`POST /users/{id}/test-connection` really connects through exchangelib and says why it failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database
from app.main import create_app
from ews_simulator.testing import SimulatorServer
from tests.factories.users import admin_key, sync_user
from workers.connectors.ews.connection import ExchangeProbe


@pytest.fixture
def strict() -> Iterator[SimulatorServer]:
    with SimulatorServer(users={"owner@example.com": "right"}) as server:
        yield server


@pytest.fixture
def probe_client(database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(database=database, mailbox_probe=ExchangeProbe())) as client:
        yield client


@pytest.mark.parametrize(
    ("password", "ews_url", "ok", "reason"),
    [
        ("right", None, True, "connected to owner@example.com"),
        ("wrong", None, False, "refused the credentials"),
        ("right", "http://127.0.0.1:9/EWS/Exchange.asmx", False, "cannot reach the EWS endpoint"),
    ],
)
def test_connection_reports_success_or_the_reason(
    db: Session,
    probe_client: TestClient,
    strict: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    password: str,
    ews_url: str | None,
    ok: bool,
    reason: str,
) -> None:
    monkeypatch.setattr(get_settings(), "ews_timeout_seconds", 2)
    user_id = sync_user(
        db,
        mailbox="owner@example.com",
        ews_url=ews_url or strict.ews_url,
        auth={"type": "basic", "username": "owner@example.com", "password": password},
    )
    headers = {"Authorization": f"Bearer {admin_key(db)}"}
    db.commit()
    response = probe_client.post(f"/api/v1/users/{user_id}/test-connection", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is ok
    assert reason in body["detail"]
    assert password not in response.text
