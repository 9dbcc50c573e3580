"""Re-encryption of every stored mailbox credential with the current CRMSYNC_SECRET_KEY."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.crypto import SecretBox, SecretUnreadable
from app.models.sync import SyncUser


@dataclass
class Rotation:
    reencrypted: int = 0
    # Users whose credential neither key decrypts: left as they are, to be entered again.
    unreadable: list[int] = field(default_factory=list)


def reencrypt_stored_secrets(db: Session, box: SecretBox) -> Rotation:
    rotation = Rotation()
    users = db.scalars(
        select(SyncUser).where(SyncUser.secret_encrypted.is_not(None)).order_by(SyncUser.user_id)
    )
    for user in users:
        assert user.secret_encrypted is not None  # selected so
        try:
            user.secret_encrypted = box.reencrypt(user.secret_encrypted)
        except SecretUnreadable:
            rotation.unreadable.append(user.user_id)
        else:
            rotation.reencrypted += 1
    db.flush()
    return rotation
