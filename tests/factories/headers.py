"""Authorization headers for a user token, for API tests acting as a sync user."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories.users import sync_user, user_token


def user_with_headers(db: Session, logon: str) -> tuple[int, dict[str, str]]:
    """A committed sync user and the headers of a token of theirs."""
    user_id = sync_user(db, logon=logon)
    token = user_token(db, logon)
    db.commit()
    return user_id, {"Authorization": f"Bearer {token}"}
