"""Sync users through the admin API: CRUD, validation, secrets, and who may see what."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories.users import sync_user, user_token

NEW_USER = {
    "logon": "alice",
    "first_name": "Alice",
    "last_name": "Archer",
    "mailbox": "Alice@Example.com",
    "ews_url": "https://mail.example.com/EWS/Exchange.asmx",
    "auth": {
        "type": "basic",
        "username": "svc-crmsync@example.com",
        "password": "correct horse battery staple",
        "impersonation": True,
    },
    "check_connection": False,
}


def test_create_read_update_delete(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/api/v1/users", json=NEW_USER, headers=admin_headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["logon"] == "alice"
    assert body["mailbox"] == "alice@example.com"
    assert body["auth"] == {
        "type": "basic",
        "username": "svc-crmsync@example.com",
        "impersonation": True,
        "has_secret": True,
    }
    user_id = body["user_id"]

    assert client.get(f"/api/v1/users/{user_id}", headers=admin_headers).json() == body
    listing = client.get("/api/v1/users", headers=admin_headers).json()
    assert [u["user_id"] for u in listing["items"]] == [user_id]
    assert listing["next_cursor"] is None

    patched = client.patch(
        f"/api/v1/users/{user_id}",
        json={"enabled": False, "timezone": "Europe/London"},
        headers=admin_headers,
    )
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    assert patched.json()["timezone"] == "Europe/London"

    assert client.delete(f"/api/v1/users/{user_id}", headers=admin_headers).status_code == 204
    assert client.get(f"/api/v1/users/{user_id}", headers=admin_headers).status_code == 404


def test_secrets_are_never_returned_and_unreadable_in_the_table(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    response = client.post("/api/v1/users", json=NEW_USER, headers=admin_headers)
    assert "correct horse" not in response.text
    raw = db.execute(text("SELECT * FROM crmsync_sync_user")).mappings().one()
    assert all(b"correct horse" not in str(value).encode() for value in raw.values())
    assert b"correct horse" not in bytes(raw["secret_encrypted"])
    everything = client.get("/api/v1/users", headers=admin_headers).text
    assert "correct horse" not in everything


def test_stored_secret_needs_the_key(db: Session) -> None:
    import pytest

    from app.kit.crypto import SecretBox, SecretUnreadable
    from app.models.sync import SyncUser

    user_id = sync_user(db)
    stored = db.get(SyncUser, user_id)
    assert stored is not None and stored.secret_encrypted is not None
    with pytest.raises(SecretUnreadable):
        SecretBox("another key").decrypt(stored.secret_encrypted)


def test_validation_errors_name_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    bad = {**NEW_USER, "mailbox": "not-an-address", "ews_url": "ftp://x"}
    response = client.post("/api/v1/users", json=bad, headers=admin_headers)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "body.mailbox" in detail and "body.ews_url" in detail

    no_password = {**NEW_USER, "auth": {"type": "ntlm", "username": "x"}}
    response = client.post("/api/v1/users", json=no_password, headers=admin_headers)
    assert response.status_code == 422
    assert "needs username and password" in response.json()["detail"]

    unknown_user = {**NEW_USER, "logon": None, "user_id": 999999}
    response = client.post("/api/v1/users", json=unknown_user, headers=admin_headers)
    assert response.status_code == 422
    assert "body.user_id" in response.json()["detail"]


def test_same_mailbox_twice_is_a_conflict(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert client.post("/api/v1/users", json=NEW_USER, headers=admin_headers).status_code == 201
    again = {**NEW_USER, "logon": "alice2"}
    response = client.post("/api/v1/users", json=again, headers=admin_headers)
    assert response.status_code == 409
    assert "already synchronized" in response.json()["detail"]


def test_authentication_errors(client: TestClient) -> None:
    missing = client.get("/api/v1/users")
    assert missing.status_code == 401
    assert "missing Authorization" in missing.json()["detail"]
    wrong = client.get("/api/v1/users", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "invalid" in wrong.json()["detail"]
    malformed = client.get("/api/v1/users", headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 401


def test_user_token_reaches_only_its_own_user(client: TestClient, db: Session) -> None:
    own = sync_user(db, logon="bob")
    other = sync_user(db, logon="carol")
    token = user_token(db, "bob")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}

    assert client.get(f"/api/v1/users/{own}", headers=headers).status_code == 200
    me = client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200 and me.json()["user_id"] == own
    assert client.get(f"/api/v1/users/{other}", headers=headers).status_code == 404
    forbidden = client.get("/api/v1/users", headers=headers)
    assert forbidden.status_code == 403
    assert "admin key" in forbidden.json()["detail"]
    assert client.patch(f"/api/v1/users/{own}", json={}, headers=headers).status_code == 403
