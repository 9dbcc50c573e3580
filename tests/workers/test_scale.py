"""Scheduled sync at scale, through real Celery workers, the real Redis broker and PostgreSQL.

Fan-out of a beat tick, the per-user lock, a worker killed mid-run, each error class,
suspension and resumption, and the scheduler's fairness when there are more due users than one
tick queues.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database, unit_of_work
from app.kit import jobs
from app.kit.clock import utc_now
from app.main import create_app
from app.models.crm import Person
from app.models.sync import RunStatus, SyncLink, SyncRun, SyncUser
from app.runs.service import queue_run
from app.sync_control.service import SUSPEND_AFTER_FAILURES
from ews_simulator.testing import SimulatorServer
from tests.conftest import TEST_REDIS_URL
from tests.factories.crm import person
from tests.factories.users import admin_key, sync_user
from workers.celery_app import app as celery_app
from workers.locks import user_lock
from workers.sync import schedule
from workers.sync.recording import ABANDONED_MESSAGE
from workers.sync.schedule import queue_due_users

_FINISHED = {
    RunStatus.SUCCESS,
    RunStatus.SUCCESS_WITH_ERRORS,
    RunStatus.FAILED,
    RunStatus.INTERRUPTED,
}


@pytest.fixture
def ews() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def api(committed_database: Database) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with unit_of_work(committed_database) as db:
        key = admin_key(db)
    with TestClient(create_app(database=committed_database)) as client:
        yield client, {"Authorization": f"Bearer {key}"}


# Mailboxes differ from one session to the next: politeness slots that a killed worker holds
# in Redis (see workers.connectors.ews.politeness) outlive the session and must not block the next.
_SESSION = uuid.uuid4().hex[:6]


def _smtp(logon: str) -> str:
    return f"{logon}-{_SESSION}@example.com"


def _mailbox_user(db: Session, ews: SimulatorServer, logon: str, *, persons: int = 0) -> int:
    """A sync user whose mailbox lives in the simulator, with `persons` flagged CRM persons."""
    smtp = _smtp(logon)
    user_id = sync_user(
        db,
        logon=logon,
        mailbox=smtp,
        ews_url=ews.ews_url,
        auth={"type": "basic", "username": smtp, "password": "secret"},
    )
    for n in range(persons):
        person(db, flagged_for=user_id, pers_firstname=logon, pers_lastname=f"Person {n:03d}")
    return user_id


def _runs(database: Database, user_id: int) -> list[SyncRun]:
    with unit_of_work(database) as db:
        runs = db.scalars(select(SyncRun).where(SyncRun.user_id == user_id).order_by(SyncRun.id))
        return list(runs)


def _wait_until(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.1)


def _all_finished(database: Database, user_id: int, at_least: int = 1) -> Callable[[], bool]:
    def check() -> bool:
        runs = _runs(database, user_id)
        return len(runs) >= at_least and all(r.status in _FINISHED for r in runs)

    return check


def _contact_names(ews: SimulatorServer, smtp: str) -> Counter[str]:
    box = ews.mailbox(smtp)
    with box.lock:
        contacts = box.folders[box.distinguished["contacts"]].items.values()
        return Counter(str(item.fields["DisplayName"].text) for item in contacts)


def _links(database: Database, user_id: int) -> int:
    with unit_of_work(database) as db:
        count = db.scalar(
            select(func.count()).select_from(SyncLink).where(SyncLink.user_id == user_id)
        )
        return int(count or 0)


def test_a_beat_tick_fans_out_one_run_per_due_user(
    committed_database: Database, celery_worker: None, ews: SimulatorServer
) -> None:
    with unit_of_work(committed_database) as db:
        users = {_mailbox_user(db, ews, f"fan{n}", persons=2): f"fan{n}" for n in range(6)}
    for logon in users.values():
        ews.seed(_smtp(logon), contacts=2)

    celery_app.send_task("sync.due_users")
    for user_id in users:
        _wait_until(f"user {user_id} synchronized", _all_finished(committed_database, user_id))

    for user_id, logon in users.items():
        (run,) = _runs(committed_database, user_id)
        assert (run.status, run.trigger) == (RunStatus.SUCCESS, "schedule"), run.message
        assert run.counts["contacts"]["crm_to_outlook"]["created"] == 2
        assert run.counts["contacts"]["outlook_to_crm"]["created"] == 2
        assert _contact_names(ews, _smtp(logon)).total() == 4
        assert _links(committed_database, user_id) == 4
    # Within the interval, the next tick finds nobody due.
    assert queue_due_users(utc_now() + timedelta(minutes=1)) == 0
    assert all(len(_runs(committed_database, user_id)) == 1 for user_id in users)


def test_one_user_queued_twice_at_once_runs_once(
    committed_database: Database, celery_worker: None, ews: SimulatorServer
) -> None:
    with unit_of_work(committed_database) as db:
        user_id = _mailbox_user(db, ews, "twice", persons=3)
        runs = [SyncRun(user_id=user_id, status=RunStatus.QUEUED, trigger="test") for _ in "ab"]
        db.add_all(runs)
        db.flush()
        run_ids = [run.id for run in runs]
    # The first run to take the lock holds it for at least this long.
    ews.add_fault("slow", "SyncFolderItems", count=1, delay_ms=2000)

    for run_id in run_ids:
        celery_app.send_task("sync.user", args=[user_id, run_id, "test"])
    _wait_until("both jobs are done", _all_finished(committed_database, user_id, at_least=2))

    runs = _runs(committed_database, user_id)
    assert sorted(r.status for r in runs) == [RunStatus.INTERRUPTED, RunStatus.SUCCESS]
    assert len(runs) == 2, "neither job recorded a run of its own"
    (skipped,) = [r for r in runs if r.status == RunStatus.INTERRUPTED]
    assert (skipped.message or "").startswith("skipped: ")
    assert _contact_names(ews, _smtp("twice")) == {f"twice Person {n:03d}": 1 for n in range(3)}


def test_the_lock_is_renewed_while_its_run_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "user_lock_seconds", 2)
    with user_lock(424242) as held:
        assert held
        time.sleep(3)  # longer than the lock's lifetime: only renewal keeps it
        with user_lock(424242) as second:
            assert not second
    with user_lock(424242) as again:
        assert again, "released when the run ended"


def _start_worker_process(name: str, log_dir: Path) -> subprocess.Popen[bytes]:
    """A real worker process on this session's queue, configured as tests/conftest.py set it."""
    environment = {
        **os.environ,
        # Redelivery of a dead worker's job, and expiry of its user lock, within seconds.
        "CRMSYNC_BROKER_VISIBILITY_TIMEOUT": "5",
        "CRMSYNC_USER_LOCK_SECONDS": "2",
    }
    log = (log_dir / f"{name}.log").open("wb")
    command = [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
        "--pool=threads", "--concurrency=1", f"--hostname={name}@%h", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    return subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_run_killed_with_its_worker_is_redone_without_duplicates(
    committed_database: Database, ews: SimulatorServer, tmp_path: Path
) -> None:
    persons = 250  # three CreateItem batches of at most 100
    with unit_of_work(committed_database) as db:
        user_id = _mailbox_user(db, ews, "killed", persons=persons)
        queue_run(db, user_id, trigger="schedule")
    ews.add_fault("slow", "CreateItem", count=persons, delay_ms=1500)

    first = _start_worker_process("first", tmp_path)
    try:
        # The second batch is on its way: the first is in Exchange and committed with its links.
        _wait_until(
            "the second CreateItem batch was sent",
            lambda: ews.stats()["requests"].get("CreateItem", 0) >= 2,
            timeout=45,
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        _stop(first)
    ews.clear_faults()
    (killed,) = _runs(committed_database, user_id)
    assert killed.status == RunStatus.RUNNING
    # A new worker restores unacknowledged jobs older than the visibility timeout as it starts.
    time.sleep(5)

    second = _start_worker_process("second", tmp_path)
    try:
        _wait_until(
            "the run was redone",
            _all_finished(committed_database, user_id, at_least=2),
            timeout=45,
        )
    finally:
        _stop(second)

    interrupted, *redone = _runs(committed_database, user_id)
    assert (interrupted.id, interrupted.status) == (killed.id, RunStatus.INTERRUPTED)
    assert (interrupted.message or "").startswith(ABANDONED_MESSAGE)
    # The redelivered job and the dead-run recovery (issue 14) may each carry a run: however
    # many, they all succeed and duplicate nothing.
    assert redone and {r.status for r in redone} == {RunStatus.SUCCESS}, [r.message for r in redone]
    names = _contact_names(ews, _smtp("killed"))
    assert len(names) == persons and set(names.values()) == {1}, names.most_common(3)
    with unit_of_work(committed_database) as db:
        assert db.scalar(select(func.count()).select_from(Person)) == persons
    assert _links(committed_database, user_id) == persons


def test_a_redelivered_job_waits_out_the_dead_workers_lock(
    committed_database: Database,
    celery_worker: None,
    ews: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "user_lock_seconds", 2)
    with unit_of_work(committed_database) as db:
        user_id = _mailbox_user(db, ews, "redelivered", persons=2)
        left = SyncRun(user_id=user_id, status=RunStatus.RUNNING, trigger="schedule")
        left.started_at = utc_now()
        db.add(left)
        db.flush()
        left_id = left.id
    # The dead worker's lock: nobody renews it, so Redis lets it expire.
    lock = f"crmsync:{get_settings().queue_name}:lock:user:{user_id}"
    redis.Redis.from_url(TEST_REDIS_URL).set(lock, "dead", px=2000)

    celery_app.send_task("sync.user", args=[user_id, left_id, "schedule"])
    _wait_until("the run was redone", _all_finished(committed_database, user_id, at_least=2))

    interrupted, redone = _runs(committed_database, user_id)
    assert (interrupted.id, interrupted.status) == (left_id, RunStatus.INTERRUPTED)
    assert redone.status == RunStatus.SUCCESS, redone.message
    assert _contact_names(ews, _smtp("redelivered")).total() == 2


def test_permanent_failures_suspend_the_user_until_an_admin_resumes(
    committed_database: Database,
    celery_worker: None,
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = api
    with SimulatorServer(users={_smtp("strict"): "right"}) as strict:
        with unit_of_work(committed_database) as db:
            user_id = _mailbox_user(db, strict, "strict", persons=1)
        for failures in range(1, SUSPEND_AFTER_FAILURES + 1):
            run = client.post(f"/api/v1/users/{user_id}/sync?wait=true", headers=headers).json()
            assert (run["status"], run["failure_kind"]) == ("Failed", "permanent")
            assert "credentials" in run["message"]
            status = client.get(f"/api/v1/users/{user_id}/status", headers=headers).json()
            assert status["consecutive_failures"] == failures

        assert status["state"] == "suspended"
        alerts = client.get("/api/v1/alerts", headers=headers).json()["items"]
        # Refused credentials raise their own alert before the suspension does.
        assert sorted((a["user_id"], a["kind"]) for a in alerts) == [
            (user_id, "authentication_failed"),
            (user_id, "sync_suspended"),
        ]
        assert queue_due_users(utc_now()) == 0, "a suspended user is not scheduled"

        strict.simulator.auth.users[_smtp("strict")] = "secret"  # the account is repaired
        resumed = client.post(f"/api/v1/users/{user_id}/resume", headers=headers).json()
        assert (resumed["state"], resumed["consecutive_failures"]) == ("idle", 0)
        assert client.get("/api/v1/alerts", headers=headers).json()["items"] == []
        assert queue_due_users(utc_now()) == 1
        _wait_until("the resumed user synchronized", _all_finished(committed_database, user_id))
    runs = _runs(committed_database, user_id)
    assert [r.status for r in runs] == [RunStatus.FAILED] * SUSPEND_AFTER_FAILURES + [
        RunStatus.SUCCESS
    ]


def test_transient_failure_is_retried_and_the_retry_succeeds(
    committed_database: Database,
    celery_worker: None,
    ews: SimulatorServer,
    api: tuple[TestClient, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, headers = api
    monkeypatch.setattr(get_settings(), "retry_base_seconds", 1)
    monkeypatch.setattr(get_settings(), "ews_timeout_seconds", 1)
    with unit_of_work(committed_database) as db:
        user_id = _mailbox_user(db, ews, "flaky", persons=2)
    ews.add_fault("http_503", "*", mailbox=_smtp("flaky"), count=1000)

    run = client.post(f"/api/v1/users/{user_id}/sync?wait=true", headers=headers).json()
    assert (run["status"], run["failure_kind"]) == ("Failed", "transient"), run["message"]
    ews.clear_faults()
    _wait_until("the retry finished", _all_finished(committed_database, user_id, at_least=2))

    failed, retried = _runs(committed_database, user_id)
    assert failed.id == run["run_id"]
    assert (retried.status, retried.trigger) == (RunStatus.SUCCESS, "retry"), retried.message
    with unit_of_work(committed_database) as db:
        user = db.get(SyncUser, user_id)
        assert user is not None
        assert (user.suspended, user.consecutive_failures) == (False, 0)
    assert _contact_names(ews, _smtp("flaky")).total() == 2


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    user_ids: list[int] = []
    monkeypatch.setattr(jobs, "enqueue", lambda _name, user_id, *_, **__: user_ids.append(user_id))
    return user_ids


def test_every_due_user_is_queued_within_a_bounded_number_of_ticks(
    database: Database, db: Session, enqueued: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    per_tick = 4
    monkeypatch.setattr(schedule, "MAX_USERS_PER_TICK", per_tick)
    now = utc_now()
    overdue_by: dict[int, int] = {}
    for minutes in (7, 3, 9, 1, 10, 5, 2, 8, 4, 6):
        user_id = sync_user(db)
        db.get(SyncUser, user_id).next_sync_at = now - timedelta(minutes=minutes)  # type: ignore[union-attr]
        overdue_by[user_id] = minutes
    db.commit()

    ticks = []
    for tick in range(3):
        queued = queue_due_users(now + timedelta(minutes=tick))
        ticks.append(enqueued[len(enqueued) - queued :])
    assert [len(users) for users in ticks] == [4, 4, 2]
    # Oldest-due first: no user waits while one that became due later is served.
    assert enqueued == sorted(overdue_by, key=lambda user_id: -overdue_by[user_id])
