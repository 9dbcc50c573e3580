"""Hostile clients against a real `crmsync serve` (uvicorn, PostgreSQL, Redis), measured from
outside: the server's memory under 1 GB bodies, its answers while one token waits on many
syncs, and whose address a failed sign-in counts against.

The server has a database of its own (migrated by `crmsync db upgrade`) and a queue no worker
consumes, so a queued sync stays queued: the worker is as busy as it can be.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.db import Database
from tests.conftest import _ADMIN_URL, TEST_DATABASE_URL
from tests.factories.users import admin_key, sync_user, user_token
from tests.serving import crmsync_serve

GIGABYTE = 1_000_000_000
MEGABYTE = 1024 * 1024
# A server that has read this much of a body without answering did not refuse it at the door.
READ_WHOLE = 256 * MEGABYTE


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    pid: int
    admin: dict[str, str]
    users: list[tuple[int, dict[str, str]]]


def _seed(url: str) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]]]:
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            admin = {"Authorization": f"Bearer {admin_key(db)}"}
            users = []
            for n in range(25):
                logon = f"waiter{n}"
                user_id = sync_user(db, logon=logon)
                users.append((user_id, {"Authorization": f"Bearer {user_token(db, logon)}"}))
            db.commit()
    finally:
        engine.dispose()
    return admin, users


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: Database
) -> Iterator[Server]:
    # migrated_database: CRM audit columns read the CRM time zone from the default database.
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_served"
    own_url = url.set(database=name).render_as_string(hide_password=False)
    admin_engine = create_engine(_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    env = {
        **os.environ,
        "CRMSYNC_DATABASE_URL": own_url,
        "CRMSYNC_QUEUE_NAME": f"{os.environ['CRMSYNC_QUEUE_NAME']}-served",
        "CRMSYNC_DATA_DIR": str(tmp_path_factory.mktemp("served")),
    }
    try:
        subprocess.run(
            [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, check=True, timeout=120
        )
        admin, users = _seed(own_url)
        # Killed at the end: the waits of test_many_waits_leave_the_api_answering are open.
        with crmsync_serve(env, graceful=False) as (base, port, pid):
            yield Server(base=base, port=port, pid=pid, admin=admin, users=users)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


# --- 1 GB bodies ------------------------------------------------------------------------------


def _memory(pid: int, field: str) -> int:
    """VmRSS or VmHWM (peak) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for process {pid}")


def _offer_gigabyte(
    port: int, path: str, headers: dict[str, str], *, chunked: bool, content_type: str
) -> tuple[int, int]:
    """Offers a 1 GB body (zeros, produced a chunk at a time) until the server answers; returns
    the answer's status and how many body bytes the server took before answering."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {GIGABYTE}"
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    chunk = b"\0" * 65536
    piece = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
    # A multipart body opens a file part, so the parser takes the zeros as the file's content.
    opening = (
        b""
        if not content_type.startswith("multipart/")
        else (b'--b\r\nContent-Disposition: form-data; name="file"; filename="zeros.bin"\r\n\r\n')
    )
    if opening and chunked:
        opening = b"%x\r\n%s\r\n" % (len(opening), opening)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: crmsync\r\nContent-Type: {content_type}\r\n"
            f"{head}{framing}\r\n\r\n".encode()
            + opening
        )
        sock.setblocking(False)
        sent, pending, answer = 0, memoryview(b""), b""
        deadline = time.monotonic() + 120
        while b"\r\n" not in answer and time.monotonic() < deadline:
            if sent > READ_WHOLE:
                pytest.fail(f"{path}: the server read {sent:,} bytes without answering")
            writing = [sock] if sent < GIGABYTE else []
            readable, writable, _ = select.select([sock], writing, [], 1)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                answer += data
            elif writable:
                pending = pending or memoryview(piece)
                try:
                    written = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    continue  # the answer, if any, is still to be read
                pending = pending[written:]
                sent += written
    status_line = answer.split(b"\r\n", 1)[0].decode()
    assert status_line.startswith("HTTP/1.1 "), f"{path}: no answer ({answer[:200]!r})"
    return int(status_line.split()[1]), sent


CASES = [
    # (path, with token, chunked, content type, expected status)
    ("/api/v1/sessions", False, False, "application/json", 401),
    ("/api/v1/sessions", False, True, "application/json", 401),
    ("/api/v1/sessions", True, False, "application/json", 413),
    ("/api/v1/sessions", True, True, "application/json", 413),
    ("/api/v1/documents", False, True, "multipart/form-data; boundary=b", 401),
    ("/api/v1/documents", True, False, "multipart/form-data; boundary=b", 413),
    ("/api/v1/documents", True, True, "multipart/form-data; boundary=b", 413),
    ("/api/v1/filings", True, True, "application/json", 413),
]


def test_gigabyte_bodies_are_refused_and_the_server_stays_small(server: Server) -> None:
    # Warm up every path the cases take, then start counting from the memory that leaves.
    for path, with_token, chunked, content_type, _expected in CASES:
        headers = server.admin if with_token else {}
        _offer_gigabyte(server.port, path, headers, chunked=chunked, content_type=content_type)
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # resets the peak (VmHWM)
    before = _memory(server.pid, "VmRSS")
    outcomes = []
    for path, with_token, chunked, content_type, expected in CASES:
        headers = server.admin if with_token else {}
        status, taken = _offer_gigabyte(
            server.port, path, headers, chunked=chunked, content_type=content_type
        )
        outcomes.append((path, with_token, chunked, status, taken))
        assert status == expected, outcomes
    peak = _memory(server.pid, "VmHWM")
    after = _memory(server.pid, "VmRSS")
    report = (
        f"RSS {before / MEGABYTE:.0f} MB, peak {peak / MEGABYTE:.0f} MB, "
        f"after {after / MEGABYTE:.0f} MB"
    )
    assert peak - before < 50 * MEGABYTE, report
    assert after - before < 50 * MEGABYTE, report
    # The server still answers.
    assert httpx.get(f"{server.base}/api/v1/users", headers=server.admin).status_code == 200
    print(report, outcomes)


# --- Waiting on syncs -------------------------------------------------------------------------


def test_many_waits_leave_the_api_answering(server: Server) -> None:
    """Each of 25 tokens waits on two syncs the worker never takes (50 waits: more than the
    thread pool's 40 threads); /health and the API still answer, and a third wait of one token
    is refused."""
    pool = ThreadPoolExecutor(max_workers=60)
    client = httpx.Client(timeout=httpx.Timeout(5, read=None))
    try:
        waits = [
            pool.submit(
                client.post, f"{server.base}/api/v1/users/me/sync?wait=true", headers=headers
            )
            for _user_id, headers in server.users
            for _ in range(2)
        ]
        time.sleep(3)  # every wait has been accepted and is polling its run
        assert not any(wait.done() for wait in waits), [w.result().text for w in waits if w.done()]
        answered = [
            httpx.get(f"{server.base}/health", timeout=10),
            httpx.get(f"{server.base}/api/v1/users", headers=server.admin, timeout=10),
            httpx.get(
                f"{server.base}/api/v1/users/me/status", headers=server.users[0][1], timeout=10
            ),
        ]
        third = httpx.post(
            f"{server.base}/api/v1/users/me/sync?wait=true", headers=server.users[0][1], timeout=10
        )
    finally:
        # The waits end when the server does, at the end of the module.
        pool.shutdown(wait=False, cancel_futures=True)
        client.close()
    assert [response.status_code for response in answered] == [200, 200, 200]
    assert third.status_code == 429, third.text
    assert "CRMSYNC_MAX_SYNC_WAITS_PER_CALLER" in third.json()["detail"]
    assert int(third.headers["Retry-After"]) > 0


# --- Whose address --------------------------------------------------------------------------


def test_a_rotated_forwarded_for_does_not_escape_the_failed_sign_in_limit(server: Server) -> None:
    """uvicorn trusts X-Forwarded-For from loopback peers by default; crmsync serve does not
    (CRMSYNC_TRUSTED_PROXIES is empty), so every guess counts against the real address. A valid
    key from that address still gets in."""
    statuses = []
    for n in range(70):  # 30 a minute: more than twice that, whichever window they fall in
        guess = {"Authorization": f"Bearer cst_guess{n}", "X-Forwarded-For": f"203.0.113.{n}"}
        statuses.append(httpx.get(f"{server.base}/api/v1/users", headers=guess).status_code)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429, statuses
    assert httpx.get(f"{server.base}/api/v1/users", headers=server.admin).status_code == 200
