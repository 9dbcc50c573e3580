"""Seats under concurrency, through a real HTTP server and committed data in PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import func, select

from app.db import Database, unit_of_work
from app.main import create_app
from app.models.licensing import LicenseSeat, LicenseSession
from tests.browser.live_server import LiveServer
from tests.factories.licensing import set_seats
from tests.factories.users import admin_key, sync_user, user_token
from tests.workers.conftest import celery_worker, committed_database

__all__ = ["celery_worker", "committed_database"]  # fixtures shared with the worker tests

USERS = 50
SEATS = 10


def test_fifty_users_at_once_for_ten_seats_get_exactly_ten(
    committed_database: Database,
) -> None:
    with unit_of_work(committed_database) as db:
        set_seats(db, SEATS)
        tokens = []
        for n in range(USERS):
            logon = f"rush{n}"
            sync_user(db, logon=logon)
            tokens.append(user_token(db, logon))

    start = threading.Barrier(USERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def open_session(base_url: str, token: str) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            start.wait()
            response = http.post(
                "/api/v1/sessions",
                json={"kind": "plugin"},
                headers={"Authorization": f"Bearer {token}"},
            )
        with lock:
            statuses.append(response.status_code)

    with LiveServer().serving(create_app(database=committed_database)) as base_url:
        threads = [
            threading.Thread(target=open_session, args=(base_url, token)) for token in tokens
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert Counter(statuses) == {201: SEATS, 409: USERS - SEATS}
    with unit_of_work(committed_database) as db:
        assert db.scalar(select(func.count()).select_from(LicenseSeat)) == SEATS
        assert db.scalar(select(func.count()).select_from(LicenseSession)) == SEATS


def test_a_finished_sync_frees_no_seat(committed_database: Database, celery_worker: None) -> None:
    with unit_of_work(committed_database) as db:
        user_id = sync_user(db, logon="worker")
        token = user_token(db, "worker")
        key = admin_key(db)
    user = {"Authorization": f"Bearer {token}"}
    admin = {"Authorization": f"Bearer {key}"}
    with (
        LiveServer().serving(create_app(database=committed_database)) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as http,
    ):
        session = http.post("/api/v1/sessions", json={"kind": "plugin"}, headers=user)
        assert session.status_code == 201, session.text
        run = http.post(f"/api/v1/users/{user_id}/sync?wait=true", headers=user)
        assert run.status_code == 200, run.text
        assert run.json()["finished_at"] is not None

        assert http.get("/api/v1/licenses", headers=admin).json()["seats_in_use"] == 1
        session_id = session.json()["session_id"]
        beat = http.post(f"/api/v1/sessions/{session_id}/heartbeat", headers=user)
        assert beat.status_code == 200
