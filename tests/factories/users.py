"""Small factories for CRM users and sync users."""

from __future__ import annotations

from itertools import count

from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.users import service as users_service
from app.users.schemas import SyncUserCreate

_sequence = count(1)


def sync_user(
    db: Session,
    *,
    logon: str | None = None,
    mailbox: str | None = None,
    ews_url: str = "http://127.0.0.1:9/EWS/Exchange.asmx",
    auth: dict[str, object] | None = None,
) -> int:
    n = next(_sequence)
    logon = logon or f"user{n}"
    body = SyncUserCreate.model_validate(
        {
            "logon": logon,
            "first_name": "Test",
            "last_name": f"User {n}",
            "mailbox": mailbox or f"{logon}@example.com",
            "ews_url": ews_url,
            "auth": auth
            or {"type": "basic", "username": f"{logon}@example.com", "password": f"pw-{n}-secret"},
        }
    )
    return users_service.create_sync_user(db, body).user_id


def admin_key(db: Session) -> str:
    return auth_service.create_admin_key(db, name="test")


def user_token(db: Session, logon: str) -> str:
    return auth_service.create_user_token(db, logon)
