"""File contents of documents and attachments, stored once per distinct content.

Each content is a file named by its SHA-256 under a directory (two-character fan-out, so no
directory grows to millions of entries). Writes go to a temporary file that is renamed into
place, so a reader never sees half a file and two writers of the same content cannot clash.
A file whose database transaction later rolls back stays behind: it is harmless (the next
writer of that content reuses it) and the store never deletes, as the CRM never deletes.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.config import Settings
from app.kit.errors import PayloadTooLarge

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredContent:
    sha256: str
    size: int
    # Relative to the store's directory: what library.libr_filepath records.
    relative_path: str


class ContentStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_settings(cls, settings: Settings) -> ContentStore:
        return cls(settings.effective_content_dir)

    @staticmethod
    def relative_path(sha256: str) -> str:
        if not _DIGEST.match(sha256):
            raise ValueError(f"not a lower-case SHA-256 hex digest: {sha256!r}")
        return f"{sha256[:2]}/{sha256}"

    def path(self, sha256: str) -> Path:
        return self.directory / self.relative_path(sha256)

    def put(self, content: bytes) -> StoredContent:
        sha256 = hashlib.sha256(content).hexdigest()
        target = self.path(sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=target.parent, prefix=".incoming-", delete=False
            ) as staged:
                staged.write(content)
                staged.flush()
                os.fsync(staged.fileno())
            Path(staged.name).replace(target)
        return StoredContent(
            sha256=sha256, size=len(content), relative_path=self.relative_path(sha256)
        )

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def read_upload(stream: BinaryIO, limit: int, too_large: str) -> bytes:
    """All of an uploaded file, refusing (413 with `too_large` as the reason) past `limit`."""
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise PayloadTooLarge(too_large)
    return content
