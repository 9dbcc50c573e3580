"""API credentials: admin keys and per-user tokens, stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import ServiceTable, UtcDateTime, utc_timestamp_column


class KeyKind(StrEnum):
    ADMIN = "admin"
    USER = "user"


class ApiKey(ServiceTable):
    __tablename__ = "crmsync_api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[KeyKind] = mapped_column(String(16), nullable=False)
    # For user tokens: users.user_userid. No foreign key: the CRM may live in another database.
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    # The first characters of the secret, so an administrator can tell keys apart in listings.
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    secret_sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = utc_timestamp_column()
    # User tokens expire (CRMSYNC_USER_TOKEN_DAYS after creation); admin keys do not (None).
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Recorded at most once a minute (see app.auth.service.LAST_USE_RESOLUTION).
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
