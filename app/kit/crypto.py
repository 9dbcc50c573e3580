"""Encryption of stored secrets (mailbox passwords, OAuth tokens) and hashing of API tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted: CRMSYNC_SECRET_KEY is not the one it was stored with."""


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"crmsync stored secrets"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretBox:
    """Encrypts with the current key; decrypts with it or, during a rotation, a previous one."""

    def __init__(self, secret_key: str, previous_keys: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet([_fernet(key) for key in (secret_key, *previous_keys)])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise _unreadable() from exc

    def reencrypt(self, token: bytes) -> bytes:
        """The same secret, encrypted with the current key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise _unreadable() from exc


def _unreadable() -> SecretUnreadable:
    return SecretUnreadable(
        "a stored credential cannot be decrypted with CRMSYNC_SECRET_KEY"
        " (nor CRMSYNC_SECRET_KEY_PREVIOUS)"
    )


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    # API tokens are 256-bit random strings, so a plain SHA-256 resists guessing; a slow
    # password hash would only slow down every request.
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=1)
def default_secret_box() -> SecretBox:
    settings = get_settings()
    previous = [settings.secret_key_previous] if settings.secret_key_previous else []
    return SecretBox(settings.effective_secret_key(), previous)
