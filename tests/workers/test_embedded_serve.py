"""The embedded default end to end: `crmsync serve` with no configuration runs the API, a worker
and the scheduler on SQLite and a serverless broker, and a queued sync really runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ews_simulator.testing import SimulatorServer
from tests.serving import crmsync_serve


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    env["CRMSYNC_DATA_DIR"] = str(tmp_path / "data")
    return env


def _crmsync(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


@pytest.fixture
def served(embedded_env: dict[str, str]) -> Iterator[str]:
    with crmsync_serve(embedded_env) as (base, _port, _pid):
        yield base


def test_serve_runs_a_queued_sync_with_no_configuration(
    embedded_env: dict[str, str], served: str
) -> None:
    with SimulatorServer() as sim:
        sim.seed("newcomer@example.com", contacts=3, seed=1)
        _crmsync(
            embedded_env, "users", "add", "--logon", "newcomer", "--mailbox",
            "newcomer@example.com", "--ews-url", sim.ews_url, "--username",
            "newcomer@example.com", "--password", "x",
        )  # fmt: skip
        key = _crmsync(embedded_env, "keys", "create").strip().splitlines()[-1]
        response = httpx.post(
            f"{served}/api/v1/users/1/sync",
            params={"wait": "true"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "Success", run
    assert run["counts"]["contacts"]["outlook_to_crm"]["created"] == 3
