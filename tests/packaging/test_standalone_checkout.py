"""The repository carries everything its tests read: a copy of it alone collects the whole suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _repository_files() -> list[str]:
    # Tracked files plus new ones not yet committed, as a fresh clone of this work would have.
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file()]


def copy_repository(target: Path) -> Path:
    """The repository's files, and nothing else of the checkout, copied to `target`."""
    for name in _repository_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target / name)
    return target


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_copy_of_the_repository_alone_collects_the_suite(tmp_path: Path) -> None:
    # Nested one level down so that nothing the project might look for beside its checkout
    # (such as a shared/ folder) exists there.
    copy = copy_repository(tmp_path / "alone" / "crmsync")
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=840,
    )
    report = collected.stdout + collected.stderr
    # pytest exits 2 on any collection error, e.g. a test module reading a file that is missing.
    assert collected.returncode == 0, report[-4000:]
    assert "tests collected" in report.splitlines()[-1], report[-2000:]
