"""Scheduled sync at scale: many users, each a small mailbox in one EWS simulator, synchronized by
real Celery worker processes through Redis and PostgreSQL, first by one worker process and then
by two. Prints user-syncs per minute for each, the scaling factor, and the 95th percentile of the
delay between a change on one side and its arrival on the other.

    .venv/bin/python bench/sync_users.py [--users 500] [--persons 5] [--contacts 5]
        [--concurrency 4] [--sample 40] [--interval-minutes 1] [--tick-seconds 10]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--redis-url redis://127.0.0.1:6379/13]

Each configuration synchronizes its own set of users (the same shape), so both measure first
syncs; then the same users again, unchanged, as an incremental round. The simulator runs in a
process of its own, so it does not share a GIL with this script or the workers. A scratch
database beside the one named, and a scratch queue, are used and removed after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report  # noqa: E402  (after the repository is on the path)
from bench.support import scratch_database  # noqa: E402

FAR_FUTURE = timedelta(days=365)
# How often a change that has not arrived yet is looked for on the other side: often enough for
# delays of tens of seconds, rarely enough not to load the simulator beside the workers.
POLL_SECONDS = 1.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Simulator:
    """`ews-simulator` in a process of its own, steered through its JSON test API."""

    def __init__(self, log: Path) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "ews_simulator.cli", "--port", str(port)]
        self.process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.stats()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"the simulator did not start; see {log}") from None
                time.sleep(0.1)

    @property
    def ews_url(self) -> str:
        return f"{self.url}/EWS/Exchange.asmx"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_sim/{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def seed(self, smtp: str, contacts: int, seed: int) -> None:
        self._call("POST", f"mailboxes/{smtp}/seed", {"contacts": contacts, "seed": seed})

    def stats(self) -> dict[str, Any]:
        return dict(self._call("GET", "stats"))

    def clear_stats(self) -> None:
        self._call("DELETE", "stats")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


class Workers:
    """Celery worker processes (threads pool), as `crmsync worker` runs them."""

    def __init__(self, count: int, concurrency: int, log_dir: Path) -> None:
        from workers.celery_app import app

        self.processes: list[subprocess.Popen[bytes]] = []
        for n in range(count):
            command = [
                sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
                "--pool=threads", f"--concurrency={concurrency}", f"--hostname=bench{n}@%h",
                "--loglevel=WARNING", "--without-gossip", "--without-mingle",
            ]  # fmt: skip
            log = (log_dir / f"worker-{count}-{n}.log").open("wb")
            self.processes.append(
                subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            )
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=1.0) or []) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not start; see {log_dir}")

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=60)


def create_users(
    simulator: Simulator, label: str, users: int, persons: int, contacts: int
) -> list[int]:
    """Users whose mailboxes each hold `contacts` contacts, each with `persons` flagged persons.

    They are parked (due in a year) until a round unparks them.
    """
    from app.crm.flags import flag_persons
    from app.crm.writer import PersonWriter
    from app.db import unit_of_work
    from app.kit.clock import utc_now
    from app.models.sync import SyncUser
    from app.users import service as users_service
    from app.users.schemas import SyncUserCreate

    user_ids = []
    with unit_of_work() as db:
        for n in range(users):
            smtp = f"{label}{n}@bench.example.com"
            body = {
                "logon": f"{label}{n}",
                "mailbox": smtp,
                "ews_url": simulator.ews_url,
                "auth": {"type": "basic", "username": smtp, "password": "x"},
            }
            user_id = users_service.create_sync_user(
                db, SyncUserCreate.model_validate(body)
            ).user_id
            people = PersonWriter(db, user_id, create_companies=False).create_many(
                [
                    {
                        "pers_firstname": f"{label}{n}",
                        "pers_lastname": f"Person {k}",
                        "pers_title": "Engineer",
                        "email.Business": f"{label}{n}.person{k}@crm.example.com",
                    }
                    for k in range(persons)
                ]
            )
            flag_persons(db, user_id, [p.pers_personid for p in people])
            user = db.get(SyncUser, user_id)
            assert user is not None
            user.next_sync_at = utc_now() + FAR_FUTURE
            user_ids.append(user_id)
            simulator.seed(smtp, contacts=contacts, seed=n)
    return user_ids


def set_due(user_ids: list[int], due: datetime | None) -> None:
    from sqlalchemy import update

    from app.db import unit_of_work
    from app.models.sync import SyncUser

    with unit_of_work() as db:
        db.execute(update(SyncUser).where(SyncUser.user_id.in_(user_ids)).values(next_sync_at=due))


@dataclass
class Round:
    runs: int
    seconds: float
    statuses: dict[str, int]
    ews_requests: int

    @property
    def per_minute(self) -> float:
        return self.runs / self.seconds * 60

    def describe(self) -> str:
        return f"{self.runs} in {self.seconds:6.1f} s = {self.per_minute:6.0f}/min"


def sync_round(simulator: Simulator, user_ids: list[int], timeout: float = 1800) -> Round:
    """Makes the users due and ticks as beat does, once; waits until every run has finished."""
    from sqlalchemy import func, select

    from app.db import unit_of_work
    from app.kit.clock import utc_now
    from app.models.sync import RunStatus, SyncRun
    from workers.sync.schedule import queue_due_users

    active = [RunStatus.QUEUED, RunStatus.RUNNING]
    with unit_of_work() as db:
        last_run = db.scalar(select(func.max(SyncRun.id))) or 0
    simulator.clear_stats()
    set_due(user_ids, None)
    started = utc_now()
    queued = 0
    while queued < len(user_ids):  # a tick queues at most MAX_USERS_PER_TICK users
        queued += queue_due_users(utc_now())
    deadline = time.monotonic() + timeout
    ours = (SyncRun.id > last_run) & SyncRun.user_id.in_(user_ids)
    while True:
        with unit_of_work() as db:
            pending = db.scalar(select(func.count()).where(ours, SyncRun.status.in_(active)))
            if not pending:
                statuses = dict(
                    db.execute(select(SyncRun.status, func.count()).where(ours).group_by(
                        SyncRun.status
                    )).all()
                )  # fmt: skip
                finished = db.scalar(select(func.max(SyncRun.finished_at)).where(ours))
                break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending} runs still unfinished after {timeout} s")
        time.sleep(0.5)
    set_due(user_ids, utc_now() + FAR_FUTURE)
    assert finished is not None
    requests = sum(simulator.stats()["requests"].values())
    return Round(
        runs=sum(statuses.values()),
        seconds=(finished - started).total_seconds(),
        statuses={str(k): v for k, v in statuses.items()},
        ews_requests=requests,
    )


@dataclass
class Change:
    user_id: int
    smtp: str
    crm_id: int
    remote_id: str
    to_outlook: bool  # made in the CRM, awaited in Outlook; else the other way
    at: float = 0.0  # when it was made (monotonic)
    value: str = ""
    delay: float | None = None


def _account(simulator: Simulator, smtp: str) -> Any:
    from ews_simulator.testing import client_account

    return client_account(simulator.ews_url, smtp, "x")


def measure_delays(
    simulator: Simulator,
    user_ids: list[int],
    sample: int,
    interval_minutes: int,
    tick_seconds: float,
) -> tuple[list[Change], Round]:
    """Changes made at random moments over one interval, on either side, for a sample of users;
    the delay of each is the time from its save until it reads back from the other side.

    Meanwhile every user runs on schedule: due times spread over the interval, as in a steady
    state, and a tick every `tick_seconds` (beat's is 60 s) queues the users that are due.
    """
    from sqlalchemy import func, select

    from app.crm.writer import PersonWriter
    from app.db import unit_of_work
    from app.kit.clock import utc_now
    from app.models.crm import Person
    from app.models.sync import SyncLink, SyncRun, SyncUser
    from app.sync_settings import service as settings_service
    from app.sync_settings.schemas import SettingsPatch
    from workers.sync.schedule import queue_due_users

    rng = random.Random(8)
    period = interval_minutes * 60
    now = utc_now()
    with unit_of_work() as db:
        settings_service.update_global(
            db, SettingsPatch.model_validate({"interval_minutes": interval_minutes})
        )
        for user_id in user_ids:
            user = db.get(SyncUser, user_id)
            assert user is not None
            user.next_sync_at = now + timedelta(seconds=rng.uniform(0, period))
        changes = []
        for n, user_id in enumerate(rng.sample(user_ids, sample)):
            link = db.scalars(
                select(SyncLink).where(SyncLink.user_id == user_id, SyncLink.entity == "contacts")
            ).first()
            user = db.get(SyncUser, user_id)
            assert link is not None and user is not None
            changes.append(
                Change(user_id, user.mailbox, int(link.crm_id), link.remote_id, n % 2 == 0)
            )
        first_run = (db.scalar(select(func.max(SyncRun.id))) or 0) + 1
    for change in changes:
        change.at = rng.uniform(0, period)  # offset for now; the moment of saving once made
    accounts = {c.smtp: _account(simulator, c.smtp) for c in changes}
    simulator.clear_stats()

    began = time.monotonic()
    next_tick = next_poll = began
    to_make = sorted(changes, key=lambda c: c.at)
    awaited: list[Change] = []
    deadline = began + period * 3 + 120
    while (to_make or awaited) and time.monotonic() < deadline:
        if time.monotonic() >= next_tick:
            queue_due_users(utc_now())
            next_tick += tick_seconds
        while to_make and time.monotonic() - began >= to_make[0].at:
            change = to_make.pop(0)
            change.value = f"Bench {uuid.uuid4().hex[:8]}"
            if change.to_outlook:
                with unit_of_work() as db:
                    person = db.get(Person, change.crm_id)
                    assert person is not None
                    PersonWriter(db, None, create_companies=False).update(
                        person, {"pers_title": change.value}
                    )
            else:
                (contact,) = accounts[change.smtp].fetch(ids=[(change.remote_id, None)])
                contact.job_title = change.value
                contact.save(update_fields=["job_title"])
            change.at = time.monotonic()
            awaited.append(change)
        if time.monotonic() >= next_poll:
            next_poll += POLL_SECONDS
            for change in list(awaited):
                if _arrived(change, accounts):
                    change.delay = time.monotonic() - change.at
                    awaited.remove(change)
        time.sleep(0.1)
    ended = utc_now()
    with unit_of_work() as db:
        ours = (SyncRun.id >= first_run) & (SyncRun.finished_at.is_not(None))
        statuses = dict(
            db.execute(select(SyncRun.status, func.count()).where(ours).group_by(
                SyncRun.status
            )).all()
        )  # fmt: skip
    load = Round(
        runs=sum(statuses.values()),
        seconds=(ended - now).total_seconds(),
        statuses={str(k): v for k, v in statuses.items()},
        ews_requests=sum(simulator.stats()["requests"].values()),
    )
    return changes, load


def _arrived(change: Change, accounts: dict[str, Any]) -> bool:
    from app.db import unit_of_work
    from app.models.crm import Person

    if change.to_outlook:
        (contact,) = accounts[change.smtp].fetch(
            ids=[(change.remote_id, None)], only_fields=["job_title"]
        )
        return bool(contact.job_title == change.value)
    with unit_of_work() as db:
        person = db.get(Person, change.crm_id)
        return person is not None and person.pers_title == change.value


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500, help="users per configuration")
    parser.add_argument("--persons", type=int, default=5, help="flagged CRM persons per user")
    parser.add_argument("--contacts", type=int, default=5, help="Exchange contacts per user")
    parser.add_argument("--concurrency", type=int, default=4, help="threads per worker process")
    parser.add_argument("--sample", type=int, default=40, help="changes timed for the delay")
    parser.add_argument("--interval-minutes", type=int, default=1)
    parser.add_argument("--tick-seconds", type=float, default=10.0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    os.environ.update(
        {
            "CRMSYNC_DATA_DIR": str(work),
            "CRMSYNC_SECRET_KEY": "bench",
            "CRMSYNC_BROKER_URL": args.redis_url,
            "CRMSYNC_QUEUE_NAME": f"crmsync-bench-{uuid.uuid4().hex[:8]}",
            "CRMSYNC_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("CRMSYNC_CRM_DATABASE_URL", None)
    with scratch_database(args.database_url):
        simulator = Simulator(work / "simulator.log")
        try:
            run(args, simulator, work)
        finally:
            simulator.stop()
            _forget_queue(args.redis_url, os.environ["CRMSYNC_QUEUE_NAME"])


def _forget_queue(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(queue, f"_kombu.binding.{queue}")
    for key in client.scan_iter(f"crmsync:{queue}:*"):
        client.delete(key)


def run(args: argparse.Namespace, simulator: Simulator, work: Path) -> None:
    from app.migrate import upgrade_database

    upgrade_database()
    started = time.perf_counter()
    user_sets = {
        count: create_users(simulator, f"w{count}u", args.users, args.persons, args.contacts)
        for count in (1, 2)
    }
    print(
        f"setup: 2 x {args.users} users, each {args.persons} flagged CRM persons and "
        f"{args.contacts} Exchange contacts ({time.perf_counter() - started:.0f} s); worker "
        f"processes with {args.concurrency} threads each; the simulator in its own process; "
        f"{os.cpu_count()} CPUs"
    )

    rounds: dict[int, tuple[Round, Round]] = {}
    delays: list[Change] = []
    load: Round | None = None
    for count, user_ids in user_sets.items():
        workers = Workers(count, args.concurrency, work)
        try:
            first = sync_round(simulator, user_ids)
            incremental = sync_round(simulator, user_ids)
            rounds[count] = (first, incremental)
            print(f"{count} worker process(es): first sync {first.describe()} {first.statuses}; "
                  f"incremental {incremental.describe()} {incremental.statuses}")  # fmt: skip
            if count == 2:
                delays, load = measure_delays(
                    simulator, user_ids, args.sample, args.interval_minutes, args.tick_seconds
                )
        finally:
            workers.stop()

    (first_1, incremental_1), (first_2, incremental_2) = rounds[1], rounds[2]
    print()
    print(f"{'':22}{'first sync':>30}{'incremental':>30}")
    for count, (first, incremental) in rounds.items():
        label = f"{count} worker process{'es' if count > 1 else ''}"
        print(f"{label:22}{first.describe():>30}{incremental.describe():>30}")
    print(
        f"{'scaling factor':22}{first_2.per_minute / first_1.per_minute:>30.2f}"
        f"{incremental_2.per_minute / incremental_1.per_minute:>30.2f}"
    )
    print(
        f"{'EWS requests per sync':22}{first_1.ews_requests / first_1.runs:>30.1f}"
        f"{incremental_1.ews_requests / incremental_1.runs:>30.1f}"
    )

    arrived = [c.delay for c in delays if c.delay is not None]
    missing = len(delays) - len(arrived)
    assert load is not None
    print(
        f"\nchange-to-arrival delay: {len(delays)} changes (half made in the CRM and read back "
        f"from Outlook, half the other way), each at a random moment of one interval; the delay "
        f"runs from the change's save until it reads back from the other side (polled every "
        f"{POLL_SECONDS:g} s). Schedule: interval {args.interval_minutes} min, a tick every "
        f"{args.tick_seconds:g} s, the {args.users} users' due times spread over the interval, "
        f"2 worker processes: {load.describe()} user-syncs meanwhile."
    )
    if arrived:
        for label, subset in (
            ("all", arrived),
            ("CRM -> Outlook", [c.delay for c in delays if c.to_outlook and c.delay]),
            ("Outlook -> CRM", [c.delay for c in delays if not c.to_outlook and c.delay]),
        ):
            if subset:
                print(
                    f"  {label:15} p50 {statistics.median(subset):6.1f} s   "
                    f"p95 {_percentile(subset, 0.95):6.1f} s   max {max(subset):6.1f} s"
                )
    if missing:
        print(f"  {missing} changes had not arrived when the measurement gave up")
    report = Report(f"{args.users} users, 1 then 2 worker processes")
    report.add(
        "first sync, 1 / 2 workers",
        f"{first_1.per_minute:.0f} / {first_2.per_minute:.0f} user-syncs per min",
    )
    report.add(
        "incremental, 1 / 2 workers",
        f"{incremental_1.per_minute:.0f} / {incremental_2.per_minute:.0f} user-syncs per min",
    )
    report.add("scaling factor (first sync)", f"{first_2.per_minute / first_1.per_minute:.2f}")
    if arrived:
        report.add(
            f"p95 change-to-arrival delay (interval {args.interval_minutes} min)",
            f"{_percentile(arrived, 0.95):.0f} s",
        )
    report.save()


if __name__ == "__main__":
    main()
