"""crmsync installed from its wheel, as a production machine or the Docker image installs it.

The wheel is built once per session from the repository's files alone, installed into a fresh
virtualenv outside the checkout, and run from an empty folder: `crmsync db upgrade`, `crmsync
demo` and `crmsync serve` up to a healthy /health on SQLite (the embedded default, with its
worker and scheduler); `db upgrade` and `serve` on PostgreSQL with Redis (production). Nothing
here can fall back on the checkout: the commands run in that folder, with no PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest

from tests.app.test_migrations import scratch_postgres
from tests.conftest import TEST_REDIS_URL
from tests.packaging.test_standalone_checkout import REPO_ROOT, copy_repository
from tests.serving import free_port

__all__ = ["scratch_postgres"]  # the fixture: a PostgreSQL database of this test's own

# The first test also pays for the session's wheel and virtualenv (pytest-timeout counts fixture
# set-up), which take minutes on a busy machine.
pytestmark = [pytest.mark.install, pytest.mark.timeout(1200)]


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh virtualenv with crmsync's wheel (and only it) installed."""
    work = tmp_path_factory.mktemp("wheel")
    source = copy_repository(work / "source")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(work / "dist"), str(source)],
        check=True, timeout=600,
    )  # fmt: skip
    (wheel,) = (work / "dist").glob("crmsync-*.whl")
    environment = work / "venv"
    venv.create(environment, with_pip=True)
    bin_dir = environment / "bin"
    # --no-compile: bytecode is written on first import instead, and the install is quicker.
    subprocess.run(
        [str(bin_dir / "pip"), "install", "--quiet", "--no-compile", str(wheel)],
        check=True, timeout=900,
    )  # fmt: skip
    shutil.rmtree(source)  # nothing of the checkout is left to fall back on
    return bin_dir


def _environment(**settings: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PYTHON"))}
    return {**kept, **settings}


def _crmsync(installed: Path, folder: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(installed / "crmsync"), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"crmsync {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def _serve_until_healthy(installed: Path, folder: Path, env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(installed / "crmsync"), "serve", "--port", str(port)], cwd=folder, env=env
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "crmsync serve ended"
            assert time.monotonic() < deadline, "crmsync serve did not become healthy"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) == 0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty working directory, away from the checkout."""
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    return empty


def test_the_wheel_runs_on_the_embedded_default(installed: Path, folder: Path) -> None:
    env = _environment()
    assert "database at head" in _crmsync(installed, folder, env, "db", "upgrade")
    assert (folder / "crmsync-data" / "crmsync.db").exists()
    demo = _crmsync(installed, folder, env, "demo", "--people", "5", "--contacts", "3")
    assert "Incremental synchronization:" in demo, demo
    _serve_until_healthy(installed, folder, env)


def test_the_wheel_runs_on_postgresql_and_redis(
    installed: Path, folder: Path, scratch_postgres: str
) -> None:
    env = _environment(
        CRMSYNC_ENVIRONMENT="production",
        CRMSYNC_DATABASE_URL=scratch_postgres,
        CRMSYNC_BROKER_URL=TEST_REDIS_URL,
        CRMSYNC_SECRET_KEY="a key for this test only",
        CRMSYNC_DATA_DIR=str(folder / "data"),
    )
    assert "database at head" in _crmsync(installed, folder, env, "db", "upgrade")
    # `crmsync demo` is not run again here: it always keeps to an embedded SQLite data
    # directory of its own, whatever database is configured (see the test above).
    _serve_until_healthy(installed, folder, env)


def test_the_code_that_runs_is_the_wheel_s(installed: Path, folder: Path) -> None:
    show = (
        "import app, migrations, workers as w; print(app.__file__, migrations.__file__, w.__file__)"
    )
    where = subprocess.run(
        [str(installed / "python"), "-c", show],
        cwd=folder,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for module in where:
        assert Path(module).is_relative_to(installed.parent), module
        assert not Path(module).is_relative_to(REPO_ROOT), module
