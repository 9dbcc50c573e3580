"""Operators' logs: CRMSYNC_LOG_FORMAT=json makes every line of a real process a JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_json_log_format_writes_one_object_per_line(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CRMSYNC_DATABASE_URL", "CRMSYNC_BROKER_URL", "CRMSYNC_CRM_DATABASE_URL")
    }
    env.update(CRMSYNC_DATA_DIR=str(tmp_path), CRMSYNC_LOG_FORMAT="json")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records, "the migrations log what they apply"
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert any(record["message"].startswith("Running upgrade") for record in records)
