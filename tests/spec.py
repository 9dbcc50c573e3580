"""Access to the shared contracts in ../shared/spec beside the repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


def spec_text(name: str) -> str:
    path = SHARED / "spec" / name
    if not path.exists():
        raise FileNotFoundError(f"the shared contract {path} is missing: clone beside shared/")
    return path.read_text()
