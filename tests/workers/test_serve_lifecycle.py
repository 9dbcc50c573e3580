"""`crmsync serve` in the embedded default stops as a whole: on a signal it stops its worker and
scheduler and waits for them; when one of them dies, serve stops too and says which."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import free_port
from tests.workers.test_embedded_serve import embedded_env

__all__ = ["embedded_env"]  # the fixture, shared with the other embedded serve test


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            # The command name is in parentheses and may hold spaces; the parent pid follows it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def serve(embedded_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """A healthy `crmsync serve` and the pids of its two children."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=embedded_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "crmsync serve did not become healthy"
            assert process.poll() is None, "crmsync serve ended"
            time.sleep(0.5)
        children = _children(process.pid)
        assert len(children) == 2, children
        yield process, children
    finally:
        for pid in [process.pid, *_children(process.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_serve_and_every_child(
    serve: tuple[subprocess.Popen[str], list[int]], stop_signal: signal.Signals
) -> None:
    process, children = serve
    process.send_signal(stop_signal)
    assert process.wait(timeout=60) == 0
    left = [pid for pid in children if _alive(pid)]
    assert left == [], f"processes of crmsync serve still running: {left}"


def test_a_child_that_dies_takes_serve_down_with_a_message(
    serve: tuple[subprocess.Popen[str], list[int]],
) -> None:
    process, children = serve
    worker = next(pid for pid in children if "worker" in Path(f"/proc/{pid}/cmdline").read_text())
    os.kill(worker, signal.SIGKILL)
    assert process.wait(timeout=60) == 1
    assert [pid for pid in children if _alive(pid)] == []
    assert process.stderr is not None
    message = process.stderr.read()
    assert f"the Celery worker (pid {worker}) was killed by SIGKILL" in message
    assert "crmsync serve stopped" in message
