"""Rotating CRMSYNC_SECRET_KEY: both keys open stored credentials while `crmsync secrets rotate`
re-encrypts them with the new one; afterwards the new key alone opens them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import Database
from app.kit.crypto import SecretBox, SecretUnreadable, default_secret_box
from app.models.connections import Connection
from app.models.sync import SyncUser
from app.users.service import connection_for
from tests.factories.certificates import app_certificate

runner = CliRunner()
OLD, NEW = "the key of last year", "the key of this year"


def _add_user(logon: str, password: str) -> None:
    result = runner.invoke(
        cli,
        [
            "users", "add", "--logon", logon, "--mailbox", f"{logon}@example.com",
            "--ews-url", "http://127.0.0.1:9/EWS/Exchange.asmx",
            "--username", f"{logon}@example.com", "--password", password, "--no-check",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.fixture
def use_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Sets CRMSYNC_SECRET_KEY (and _PREVIOUS) as an operator would, and restarts the config."""

    def use(current: str, previous: str | None = None) -> None:
        monkeypatch.setenv("CRMSYNC_SECRET_KEY", current)
        if previous is None:
            monkeypatch.delenv("CRMSYNC_SECRET_KEY_PREVIOUS", raising=False)
        else:
            monkeypatch.setenv("CRMSYNC_SECRET_KEY_PREVIOUS", previous)
        get_settings.cache_clear()
        default_secret_box.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()
    default_secret_box.cache_clear()


def _stored(db: Session) -> dict[str, bytes]:
    db.expire_all()
    return {
        user.mailbox: bytes(user.secret_encrypted)
        for user in db.scalars(select(SyncUser))
        if user.secret_encrypted is not None
    }


def test_both_keys_open_credentials_until_rotate_moves_them_to_the_new_one(
    database: Database, db: Session, use_keys: Callable[..., None]
) -> None:
    use_keys(OLD)
    _add_user("ann", "ann's password")
    _add_user("bob", "bob's password")

    use_keys(NEW, previous=OLD)
    ann = db.scalars(select(SyncUser).where(SyncUser.mailbox == "ann@example.com")).one()
    assert connection_for(ann).secret == "ann's password"  # stored with the old key
    _add_user("cid", "cid's password")  # stored with the new key
    result = runner.invoke(cli, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 3 stored credentials" in result.output

    use_keys(NEW)
    stored = _stored(db)
    for name in ("ann", "bob", "cid"):
        assert SecretBox(NEW).decrypt(stored[f"{name}@example.com"]) == f"{name}'s password"
        with pytest.raises(SecretUnreadable):
            SecretBox(OLD).decrypt(stored[f"{name}@example.com"])


def test_rotate_names_credentials_neither_key_opens_and_leaves_them(
    database: Database, db: Session, use_keys: Callable[..., None]
) -> None:
    use_keys("a key nobody kept")
    _add_user("lost", "gone")
    use_keys(OLD)
    _add_user("kept", "kept's password")
    before = _stored(db)

    use_keys(NEW, previous=OLD)
    result = runner.invoke(cli, ["secrets", "rotate"])
    assert result.exit_code == 1
    lost = db.scalars(select(SyncUser).where(SyncUser.mailbox == "lost@example.com")).one()
    assert f"users {lost.user_id} open with neither" in result.output
    after = _stored(db)
    assert after["lost@example.com"] == before["lost@example.com"]
    assert SecretBox(NEW).decrypt(after["kept@example.com"]) == "kept's password"


def test_rotate_moves_connection_secrets_and_certificates_too(
    database: Database, db: Session, use_keys: Callable[..., None], tmp_path: Path
) -> None:
    use_keys(OLD)
    pem = app_certificate()
    (tmp_path / "app.pem").write_text(pem)
    (tmp_path / "password").write_text("svc password")
    for args in (
        ["--name", "exo", "--ews-url", "https://outlook.office365.com/EWS/Exchange.asmx",
         "--auth", "oauth2", "--tenant", "t", "--client-id", "c",
         "--client-certificate-file", str(tmp_path / "app.pem")],
        ["--name", "onprem", "--ews-url", "https://mail.contoso.com/EWS/Exchange.asmx",
         "--username", "svc", "--password-file", str(tmp_path / "password")],
    ):  # fmt: skip
        added = runner.invoke(cli, ["connections", "add", *args])
        assert added.exit_code == 0, added.output

    use_keys(NEW, previous=OLD)
    result = runner.invoke(cli, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 2 stored credentials" in result.output
    use_keys(NEW)
    db.expire_all()
    rows = {row.name: row for row in db.scalars(select(Connection))}
    assert rows["exo"].certificate_encrypted is not None
    assert rows["onprem"].secret_encrypted is not None
    assert SecretBox(NEW).decrypt(rows["exo"].certificate_encrypted) == pem.strip()
    assert SecretBox(NEW).decrypt(rows["onprem"].secret_encrypted) == "svc password"
