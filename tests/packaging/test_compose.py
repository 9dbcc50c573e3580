"""docker-compose.yml is valid for Compose and runs crmsync as a whole: every crmsync container
shares one data volume, and the api, the workers and beat each have a health check.

Images are not built here (base images cannot be pulled on these machines); the wheel test
(test_wheel_install.py) stands for the image's install step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CRMSYNC_SERVICES = ("migrate", "api", "worker", "beat")


def _compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]  # Debian's package, installed by scripts/services-up
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if shutil.which("docker") and plugin.returncode == 0:
        return ["docker", "compose"]
    pytest.fail("neither docker-compose nor docker compose: run scripts/services-up")


def _compose_config(
    env: dict[str, str], project_directory: Path
) -> subprocess.CompletedProcess[str]:
    """The file as Compose resolves it (anchors merged, variables substituted)."""
    return subprocess.run(
        [*_compose_command(), "--file", str(REPO_ROOT / "docker-compose.yml"),
         "--project-directory", str(project_directory), "config"],
        cwd=project_directory, env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    resolved = _compose_config(
        {**os.environ, "CRMSYNC_SECRET_KEY": "a key for validation only"}, REPO_ROOT
    )
    assert resolved.returncode == 0, resolved.stderr
    document: dict[str, Any] = yaml.safe_load(resolved.stdout)
    return document


def test_every_crmsync_container_shares_the_data_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in CRMSYNC_SERVICES:
        data_dir = services[name]["environment"]["CRMSYNC_DATA_DIR"]
        assert f"crmsync-data:{data_dir}:rw" in services[name]["volumes"], name
    assert "crmsync-data" in compose["volumes"]


def test_api_workers_and_beat_have_health_checks(compose: dict[str, Any]) -> None:
    for name in ("api", "worker", "beat"):
        assert compose["services"][name]["healthcheck"]["test"], name


def test_the_secret_key_is_required(tmp_path: Path) -> None:
    # A project directory of its own, where no developer's .env sets the key.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    resolved = _compose_config(env, tmp_path)
    assert resolved.returncode != 0
    assert "set CRMSYNC_SECRET_KEY" in resolved.stderr
