"""A `crmsync serve` subprocess for tests that measure the real server from outside."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def crmsync_serve(env: dict[str, str], *, graceful: bool = True) -> Iterator[tuple[str, int, int]]:
    """Runs `crmsync serve` on a free port until the block ends; yields its base URL, port and
    process id once /health answers 200. Not `graceful`: killed at the end, requests in
    flight or not."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("crmsync serve did not become healthy")
        yield base, port, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
