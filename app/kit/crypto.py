"""Encryption of stored secrets (mailbox passwords, OAuth tokens) and hashing of API tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted: CRMSYNC_SECRET_KEY is not the one it was stored with."""


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"crmsync stored secrets"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise SecretUnreadable(
                "a stored credential cannot be decrypted with the current CRMSYNC_SECRET_KEY"
            ) from exc


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    # API tokens are 256-bit random strings, so a plain SHA-256 resists guessing; a slow
    # password hash would only slow down every request.
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=1)
def default_secret_box() -> SecretBox:
    return SecretBox(get_settings().effective_secret_key())
