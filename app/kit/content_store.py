"""File contents of documents and attachments, stored once per distinct content.

Each content is a file named by its SHA-256 under a directory (two-character fan-out, so no
directory grows to millions of entries). Writes go to a temporary file that is renamed into
place, so a reader never sees half a file and two writers of the same content cannot clash.
A file whose database transaction later rolls back stays behind: it is harmless (the next
writer of that content reuses it) and the store never deletes, as the CRM never deletes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.config import Settings
from app.kit.errors import PayloadTooLarge

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_COPY_CHUNK_BYTES = 1024 * 1024


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
        return self.put_stream(io.BytesIO(content))

    def put_stream(self, stream: BinaryIO) -> StoredContent:
        """Copies the stream into the store a chunk at a time, hashing as it goes: an upload
        of any size takes one chunk of memory."""
        self.directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(
            dir=self.directory, prefix=".incoming-", delete=False
        ) as staged:
            try:
                while chunk := stream.read(_COPY_CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    staged.write(chunk)
                staged.flush()
                os.fsync(staged.fileno())
            except BaseException:
                Path(staged.name).unlink(missing_ok=True)
                raise
        sha256 = digest.hexdigest()
        target = self.path(sha256)
        if target.exists():
            Path(staged.name).unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            Path(staged.name).replace(target)
        return StoredContent(sha256=sha256, size=size, relative_path=self.relative_path(sha256))

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def check_upload_size(size: int | None, limit: int, too_large: str) -> None:
    """Refuses (413 with `too_large` as the reason) an uploaded file past `limit`; the
    multipart parser has counted its bytes while spooling it to disk."""
    if size is not None and size > limit:
        raise PayloadTooLarge(too_large)
