"""Token lifecycle: listing and revoking keys and tokens (CLI and API), expiry, last use, and
tokens of deleted CRM users refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.auth import service
from app.cli import cli
from app.config import get_settings
from app.db import Database
from app.kit.clock import utc_now
from app.kit.errors import NotFound
from app.models.auth import ApiKey
from app.models.crm import User
from tests.factories.users import sync_user, user_token

runner = CliRunner()


def _key(db: Session, secret: str) -> ApiKey:
    db.expire_all()
    return db.scalars(select(ApiKey).where(ApiKey.prefix == secret[:10])).one()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def alice(db: Session) -> tuple[int, str]:
    user_id = sync_user(db, logon="alice")
    token = user_token(db, "alice")
    db.commit()
    return user_id, token


def test_cli_lists_keys_and_tokens_one_a_line_id_first_and_revokes_them(
    database: Database, db: Session, alice: tuple[int, str]
) -> None:
    sync_user(db, logon="bob")
    bob_token = user_token(db, "bob")
    admin = service.create_admin_key(db, name="ops")
    db.commit()
    alice_key, bob_key, admin_key = _key(db, alice[1]), _key(db, bob_token), _key(db, admin)

    keys = runner.invoke(cli, ["keys", "list"])
    assert keys.exit_code == 0, keys.output
    assert keys.output.splitlines() == [
        f"{admin_key.id}\t-\t{admin_key.created_at.isoformat(timespec='seconds')}"
        "\tnever\tnever\tops"
    ]
    tokens = runner.invoke(cli, ["tokens", "list"])
    lines = [line.split("\t") for line in tokens.output.splitlines()]
    assert [(line[0], line[1]) for line in lines] == [
        (str(alice_key.id), "alice"),
        (str(bob_key.id), "bob"),
    ]
    assert alice_key.expires_at is not None
    assert lines[0][2:5] == [
        alice_key.created_at.isoformat(timespec="seconds"),
        alice_key.expires_at.isoformat(timespec="seconds"),
        "never",
    ]
    only_bob = runner.invoke(cli, ["tokens", "list", "--user", "bob"])
    assert [line.split("\t")[0] for line in only_bob.output.splitlines()] == [str(bob_key.id)]
    assert runner.invoke(cli, ["tokens", "list", "--user", "nobody"]).exit_code == 2

    # An id of the other kind is not revoked by mistake.
    assert runner.invoke(cli, ["keys", "revoke", str(bob_key.id)]).exit_code == 2
    revoked = runner.invoke(cli, ["tokens", "revoke", str(bob_key.id)])
    assert revoked.exit_code == 0, revoked.output
    assert runner.invoke(cli, ["tokens", "revoke", str(bob_key.id)]).exit_code == 2
    assert runner.invoke(cli, ["keys", "revoke", str(admin_key.id)]).exit_code == 0
    assert runner.invoke(cli, ["keys", "list"]).output == ""
    remaining = runner.invoke(cli, ["tokens", "list"]).output.splitlines()
    assert [line.split("\t")[0] for line in remaining] == [str(alice_key.id)]


def test_api_lists_and_revokes_keys_and_tokens(
    client: TestClient, db: Session, admin_headers: dict[str, str], alice: tuple[int, str]
) -> None:
    alice_id, alice_token = alice
    sync_user(db, logon="bob")
    bob_token = user_token(db, "bob")
    spare_admin = service.create_admin_key(db, name="spare")
    db.commit()

    keys = client.get("/api/v1/keys", headers=admin_headers).json()["items"]
    assert [k["name"] for k in keys] == ["test", "spare"]
    assert all(k["kind"] == "admin" and k["expires_at"] is None for k in keys)
    assert not any("secret" in field for k in keys for field in k)

    everyone = client.get("/api/v1/tokens", headers=admin_headers).json()["items"]
    assert [t["logon"] for t in everyone] == ["alice", "bob"]
    mine = client.get("/api/v1/tokens", params={"user_id": alice_id}, headers=admin_headers)
    assert [t["logon"] for t in mine.json()["items"]] == ["alice"]
    # A user sees their own tokens whatever user_id they ask for.
    own = client.get("/api/v1/tokens", params={"user_id": 999999}, headers=_bearer(alice_token))
    assert [t["logon"] for t in own.json()["items"]] == ["alice"]

    bob_key = _key(db, bob_token)
    # Another user's token does not exist for alice; bob may end his own.
    refused = client.delete(f"/api/v1/tokens/{bob_key.id}", headers=_bearer(alice_token))
    assert refused.status_code == 404
    assert (
        client.delete(f"/api/v1/tokens/{bob_key.id}", headers=_bearer(bob_token)).status_code == 204
    )
    assert client.get("/api/v1/runs", headers=_bearer(bob_token)).status_code == 401
    assert client.delete(f"/api/v1/tokens/{bob_key.id}", headers=admin_headers).status_code == 404

    spare_key = _key(db, spare_admin)
    assert client.delete(f"/api/v1/keys/{spare_key.id}", headers=admin_headers).status_code == 204
    assert client.get("/api/v1/keys", headers=_bearer(spare_admin)).status_code == 401
    # A user token's id is not an admin key's.
    alice_key = _key(db, alice_token)
    assert client.delete(f"/api/v1/keys/{alice_key.id}", headers=admin_headers).status_code == 404


def test_user_tokens_expire_after_the_configured_days(
    client: TestClient, db: Session, alice: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _alice_id, token = alice
    key = _key(db, token)
    assert key.expires_at is not None
    assert abs(key.expires_at - (key.created_at + timedelta(days=90))) < timedelta(seconds=5)
    assert client.get("/api/v1/runs", headers=_bearer(token)).status_code == 200

    key.expires_at = utc_now() - timedelta(seconds=1)
    db.commit()
    expired = client.get("/api/v1/runs", headers=_bearer(token))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]

    short = get_settings().model_copy(update={"user_token_days": 7})
    monkeypatch.setattr("app.auth.service.get_settings", lambda: short)
    week = _key(db, user_token(db, "alice"))
    assert week.expires_at is not None
    assert abs(week.expires_at - (week.created_at + timedelta(days=7))) < timedelta(seconds=5)


def test_last_use_is_recorded_at_most_once_a_minute(
    client: TestClient, db: Session, alice: tuple[int, str]
) -> None:
    _alice_id, token = alice
    assert _key(db, token).last_used_at is None
    assert client.get("/api/v1/runs", headers=_bearer(token)).status_code == 200
    first = _key(db, token).last_used_at
    assert first is not None
    assert client.get("/api/v1/runs", headers=_bearer(token)).status_code == 200
    assert _key(db, token).last_used_at == first

    key = _key(db, token)
    key.last_used_at = first - timedelta(minutes=2)
    db.commit()
    assert client.get("/api/v1/runs", headers=_bearer(token)).status_code == 200
    later = _key(db, token).last_used_at
    assert later is not None and later >= first


def test_tokens_of_deleted_crm_users_are_refused_but_disabled_sync_keeps_api_access(
    client: TestClient, db: Session, admin_headers: dict[str, str], alice: tuple[int, str]
) -> None:
    alice_id, token = alice
    disabled = client.patch(
        f"/api/v1/users/{alice_id}", json={"enabled": False}, headers=admin_headers
    )
    assert disabled.status_code == 200
    assert (
        client.get("/api/v1/crm/search", params={"q": "x"}, headers=_bearer(token)).status_code
        == 200
    )

    crm_user = db.get(User, alice_id)
    assert crm_user is not None
    crm_user.deleted = 1
    db.commit()
    for method, path, extra in [
        ("GET", "/api/v1/crm/search", {"params": {"q": "x"}}),
        ("GET", "/api/v1/documents/1/content", {}),
        ("POST", "/api/v1/documents", {"files": {"file": ("a.txt", b"a", "text/plain")}}),
    ]:
        response = client.request(method, path, headers=_bearer(token), **extra)
        assert response.status_code == 401, (path, response.text)
        assert "deleted" in response.json()["detail"]
    with pytest.raises(NotFound, match="alice"):
        service.create_user_token(db, "alice")
