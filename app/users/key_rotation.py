"""Re-encryption of every stored mailbox credential with the current CRMSYNC_SECRET_KEY."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.crypto import SecretBox, SecretUnreadable
from app.models.connections import Connection
from app.models.sync import SyncUser


@dataclass
class Rotation:
    reencrypted: int = 0
    # Users whose credential neither key decrypts: left as they are, to be entered again.
    unreadable: list[int] = field(default_factory=list)
    # Connections (by name) with such a credential, likewise.
    unreadable_connections: list[str] = field(default_factory=list)


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
    for connection in db.scalars(select(Connection).order_by(Connection.id)):
        _reencrypt_connection(connection, box, rotation)
    db.flush()
    return rotation


def _reencrypt_connection(connection: Connection, box: SecretBox, rotation: Rotation) -> None:
    """Both of its encrypted columns, or neither: a half-rotated connection helps nobody."""
    stored = {
        column: value
        for column in ("secret_encrypted", "certificate_encrypted")
        if (value := getattr(connection, column)) is not None
    }
    try:
        rotated = {column: box.reencrypt(value) for column, value in stored.items()}
    except SecretUnreadable:
        rotation.unreadable_connections.append(connection.name)
        return
    for column, value in rotated.items():
        setattr(connection, column, value)
    rotation.reencrypted += len(rotated)
