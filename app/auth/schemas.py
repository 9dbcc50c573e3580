from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from app.models.auth import KeyKind


class KeyRead(BaseModel):
    """An admin key or a user token as listings show it; the secret itself is never shown."""

    id: int
    kind: KeyKind
    user_id: int | None
    logon: str | None
    name: str
    # The first characters of the secret, to tell keys apart.
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
