"""A worker killed mid-run (kill -9) stalls nobody, with the default settings.

Two users are synchronizing on one real worker process when it is killed. Their user locks
expire (CRMSYNC_USER_LOCK_SECONDS, 120 s by default) because nobody renews them; then:
- the caller waiting on one of the runs (`?wait=true`) gets it back Interrupted, with a new
  run queued in its place, instead of waiting out its limit;
- the scheduler's sweep (a real `crmsync beat`, every minute) closes the other run as
  Interrupted and queues a new one, long before the broker's visibility timeout (3,600 s)
  would have redelivered the dead worker's job;
- a second real worker carries out both new runs, without duplicates, and a manual sync
  afterwards is a fresh run, not the dead one.
Nothing is shortened: this test takes about three minutes. The slow CreateItem answers of the
simulator only make sure the kill lands mid-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.config import get_settings
from app.db import Database, unit_of_work
from app.kit.clock import utc_now
from app.main import create_app
from app.models.sync import RunStatus, SyncUser
from app.runs.service import ABANDONED_MESSAGE, RECOVERY_TRIGGER
from ews_simulator.testing import SimulatorServer
from tests.factories.users import admin_key
from tests.workers.test_scale import (
    _all_finished,
    _contact_names,
    _mailbox_user,
    _runs,
    _smtp,
    _stop,
    _wait_until,
    ews,
)

__all__ = ["ews"]  # the fixture

PERSONS = 250  # three CreateItem batches of at most 100


def _crmsync(command: str, log_dir: Path) -> subprocess.Popen[bytes]:
    """`crmsync worker` or `crmsync beat` as a real process, with the default settings (the
    test session's database, broker and queue aside)."""
    environment = {**os.environ, "CRMSYNC_DATA_DIR": str(log_dir / "data")}
    for name in ("CRMSYNC_USER_LOCK_SECONDS", "CRMSYNC_BROKER_VISIBILITY_TIMEOUT"):
        environment.pop(name, None)
    log = (log_dir / f"{command}-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", command, "--loglevel=INFO"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_killed_worker_stalls_nobody(
    committed_database: Database, ews: SimulatorServer, tmp_path: Path
) -> None:
    settings = get_settings()
    assert (settings.user_lock_seconds, settings.broker_visibility_timeout) == (120, 3600)
    with unit_of_work(committed_database) as db:
        waited = _mailbox_user(db, ews, "waited", persons=PERSONS)
        swept = _mailbox_user(db, ews, "swept", persons=PERSONS)
        # Not due for a scheduled sync today: every run the test sees is one it asked for or a
        # recovery, whatever minute beat's due-users tick falls on.
        for user_id in (waited, swept):
            sync_state = db.get(SyncUser, user_id)
            assert sync_state is not None
            sync_state.next_sync_at = utc_now() + timedelta(days=1)
        key = admin_key(db)
    headers = {"Authorization": f"Bearer {key}"}
    ews.add_fault("slow", "CreateItem", count=2 * PERSONS, delay_ms=1500)

    processes = [_crmsync("worker", tmp_path)]
    try:
        with TestClient(create_app(database=committed_database)) as api:
            dead = {
                user: api.post(f"/api/v1/users/{user}/sync", headers=headers).json()["run_id"]
                for user in (waited, swept)
            }
            _wait_until(
                "both runs are in Exchange",
                lambda: (
                    ews.stats()["requests"].get("CreateItem", 0) >= 3
                    and all(
                        _runs(committed_database, u)[-1].status == RunStatus.RUNNING for u in dead
                    )
                ),
                timeout=90,
            )
            processes[0].send_signal(signal.SIGKILL)
            processes[0].wait()
            killed_at = time.monotonic()
            ews.clear_faults()

            waiting: dict[str, Any] = {}

            def wait_for_the_run() -> None:
                with TestClient(create_app(database=committed_database)) as waiter:
                    response = waiter.post(
                        f"/api/v1/users/{waited}/sync", params={"wait": "true"}, headers=headers
                    )
                waiting.update(response=response, after=time.monotonic() - killed_at)

            waiter = threading.Thread(target=wait_for_the_run)
            waiter.start()
            processes += [_crmsync("worker", tmp_path), _crmsync("beat", tmp_path)]

            waiter.join(timeout=200)
            assert not waiter.is_alive(), "?wait=true still waits on the dead worker's run"
            response = waiting["response"]
            assert response.status_code == 200, response.text
            assert (response.json()["run_id"], response.json()["status"]) == (
                dead[waited],
                "Interrupted",
            )
            # Within the lock's lifetime and a few polls, not the wait's limit of 300 s.
            assert waiting["after"] < settings.user_lock_seconds + 30, waiting["after"]

            for user in (waited, swept):
                _wait_until(
                    f"user {user}'s run is redone",
                    _all_finished(committed_database, user, at_least=2),
                    timeout=240,
                )
            for user in (waited, swept):
                old, new = _runs(committed_database, user)
                assert (old.id, old.status) == (dead[user], RunStatus.INTERRUPTED)
                assert old.message == f"{ABANDONED_MESSAGE}; run {new.id} replaces it"
                assert (new.status, new.trigger) == (RunStatus.SUCCESS, RECOVERY_TRIGGER)
                names = _contact_names(ews, _smtp("waited" if user == waited else "swept"))
                assert len(names) == PERSONS and set(names.values()) == {1}

            manual = api.post(f"/api/v1/users/{swept}/sync", headers=headers)
            assert manual.status_code == 202
            assert manual.json()["run_id"] not in {
                r.id for r in _runs(committed_database, swept)[:2]
            }
            _wait_until(
                "the manual run is done",
                _all_finished(committed_database, swept, at_least=3),
                timeout=60,
            )
    finally:
        for process in processes:
            _stop(process)
