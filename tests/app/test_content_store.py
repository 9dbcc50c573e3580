"""The content store copies uploads a chunk at a time, hashing as it goes, and keeps each
content once."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from app.kit.content_store import ContentStore


class ChunkWatchingStream(io.BytesIO):
    """Refuses to be read whole: each read must ask for a bounded chunk."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size > 0, "read the upload whole"
        self.largest_read = max(self.largest_read, size)
        return super().read(size)


def test_a_stream_is_stored_by_its_sha256_a_chunk_at_a_time(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    content = bytes(range(256)) * 20_000  # 5 MB
    stream = ChunkWatchingStream(content)
    stored = store.put_stream(stream)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size == len(content)
    assert stream.largest_read <= 1024 * 1024
    assert store.read(stored.sha256) == content
    again = store.put_stream(ChunkWatchingStream(content))
    assert again == stored
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [stored.sha256]
