"""Mailbox connections through the admin API: fields, rules, write-only secrets, sharing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.kit.crypto import default_secret_box
from app.models.sync import AuthType, SyncUser
from app.users import service as users_service
from tests.factories.certificates import app_certificate, certificate_only

EWS = "https://mail.contoso.com/EWS/Exchange.asmx"
BASIC = {
    "name": "contoso",
    "ews_url": EWS,
    "auth": "basic",
    "username": "svc@contoso.com",
    "password": "service-pa55word-never-shown",
    "impersonation": True,
}
CLIENT_SECRET = "app-client-secret-never-shown-0123"
OAUTH = {
    "name": "contoso-oauth",
    "ews_url": "https://outlook.office365.com/EWS/Exchange.asmx",
    "auth": "oauth2",
    "tenant": "contoso.onmicrosoft.com",
    "client_id": "11111111-2222-3333-4444-555555555555",
    "client_secret": CLIENT_SECRET,
    "impersonation": True,
}


def _user(name: str, connection: str) -> dict[str, Any]:
    return {
        "logon": name,
        "mailbox": f"{name}@contoso.com",
        "connection": connection,
        "check_connection": False,
    }


def test_create_read_update_delete(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/api/v1/connections", json=BASIC, headers=admin_headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["auth"] == "basic"
    assert body["has_password"] is True
    assert body["users"] == 0
    assert "password" not in body
    assert BASIC["password"] not in created.text

    assert client.get("/api/v1/connections/contoso", headers=admin_headers).json() == body
    listing = client.get("/api/v1/connections", headers=admin_headers).json()
    assert [row["name"] for row in listing["items"]] == ["contoso"]

    patched = client.patch(
        "/api/v1/connections/contoso",
        json={"name": "contoso-onprem", "impersonation": False},
        headers=admin_headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["impersonation"] is False
    assert patched.json()["has_password"] is True  # a secret not given stays
    gone = client.delete("/api/v1/connections/contoso-onprem", headers=admin_headers)
    assert gone.status_code == 204
    assert (
        client.get("/api/v1/connections/contoso-onprem", headers=admin_headers).status_code == 404
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"password": None}, "password: auth basic needs"),
        ({"auth": "ntlm", "username": None}, "username: auth ntlm needs"),
        ({"tenant": "t"}, "tenant: not used with auth basic"),
        ({"ews_url": None}, "ews_url: an EWS connection needs"),
        ({"ews_url": "ftp://x/EWS"}, "is not an absolute http(s) URL"),
        ({"name": "has space"}, "name"),
        ({"auth": "kerberos"}, "auth"),
        ({"connector": "imap"}, "connector"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_wrong_combination_is_refused_with_what_is_wrong(
    client: TestClient, admin_headers: dict[str, str], change: dict[str, Any], says: str
) -> None:
    body = {key: value for key, value in {**BASIC, **change}.items() if value is not None}
    response = client.post("/api/v1/connections", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert says in response.text
    assert client.get("/api/v1/connections", headers=admin_headers).json()["items"] == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"client_secret": None}, "exactly one of them"),
        ({"client_certificate": "PEM"}, "exactly one of them"),
        ({"client_id": None}, "client_id: auth oauth2 needs"),
        ({"ews_url": "http://mail.contoso.com/EWS/Exchange.asmx"}, "only over https"),
        ({"password": "x"}, "password: not used with auth oauth2"),
    ],
)
def test_oauth2_needs_an_app_registration_and_https(
    client: TestClient, admin_headers: dict[str, str], change: dict[str, Any], says: str
) -> None:
    body = {key: value for key, value in {**OAUTH, **change}.items() if value is not None}
    response = client.post("/api/v1/connections", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert says in response.text


def test_a_certificate_is_checked_and_shown_by_its_thumbprint(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    pem = app_certificate("crmsync-contoso")
    body = {**OAUTH, "client_secret": None, "client_certificate": pem}
    created = client.post("/api/v1/connections", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    certificate = created.json()["certificate"]
    assert certificate["subject"] == "CN=crmsync-contoso"
    assert len(certificate["thumbprint"]) == 40
    assert "PRIVATE KEY" not in created.text
    assert created.json()["has_client_secret"] is False

    for wrong, says in [
        (certificate_only(pem), "no unencrypted PEM private key"),
        ("not a pem", "no PEM certificate"),
        (
            certificate_only(pem) + app_certificate().split("-----END CERTIFICATE-----\n")[1],
            "does not belong to the certificate",
        ),
    ]:
        refused = client.patch(
            "/api/v1/connections/contoso-oauth",
            json={"client_certificate": wrong},
            headers=admin_headers,
        )
        assert refused.status_code == 422
        assert says in refused.text


def test_changing_the_auth_type_drops_the_former_credentials(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    client.post("/api/v1/connections", json=BASIC, headers=admin_headers)
    switch = {key: OAUTH[key] for key in ("auth", "tenant", "client_id", "client_secret")}
    half = client.patch(
        "/api/v1/connections/contoso", json={"auth": "oauth2"}, headers=admin_headers
    )
    assert half.status_code == 422
    assert "tenant: auth oauth2 needs" in half.text
    moved = client.patch("/api/v1/connections/contoso", json=switch, headers=admin_headers)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["auth"], body["username"], body["has_password"]) == ("oauth2", None, False)
    assert body["has_client_secret"] is True
    row = db.execute(text("SELECT secret_encrypted FROM crmsync_connection")).one()
    assert default_secret_box().decrypt(row.secret_encrypted) == CLIENT_SECRET


def test_twenty_users_of_one_connection_store_its_secret_once(
    client: TestClient, admin_headers: dict[str, str], db: Session
) -> None:
    assert client.post("/api/v1/connections", json=OAUTH, headers=admin_headers).status_code == 201
    for n in range(20):
        response = client.post(
            "/api/v1/users", json=_user(f"user{n}", "contoso-oauth"), headers=admin_headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["connection"] == "contoso-oauth"
        assert response.json()["auth"] is None
        assert response.json()["ews_url"] == OAUTH["ews_url"]

    stored = [
        bytes(value)
        for table, column in [
            ("crmsync_sync_user", "secret_encrypted"),
            ("crmsync_connection", "secret_encrypted"),
            ("crmsync_connection", "certificate_encrypted"),
        ]
        for (value,) in db.execute(text(f"SELECT {column} FROM {table}"))
        if value is not None
    ]
    assert len(stored) == 1
    assert CLIENT_SECRET.encode() not in stored[0]
    assert (
        client.get("/api/v1/connections/contoso-oauth", headers=admin_headers).json()["users"] == 20
    )

    # One rotation reaches every user.
    rotated = client.patch(
        "/api/v1/connections/contoso-oauth",
        json={"client_secret": "the-rotated-secret"},
        headers=admin_headers,
    )
    assert rotated.status_code == 200
    db.expire_all()
    users = db.query(SyncUser).all()
    assert len(users) == 20
    for user in users:
        reach = users_service.connection_for(user)
        assert reach.auth_type is AuthType.OAUTH2
        assert reach.oauth_app is not None
        assert reach.oauth_app.client_secret == "the-rotated-secret"
        assert reach.oauth_app.audience == "https://outlook.office365.com"
        assert reach.oauth_app.authority_url == "https://login.microsoftonline.com"
        assert reach.mailbox == user.mailbox


def test_a_connection_with_users_is_not_deleted(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/connections", json=BASIC, headers=admin_headers)
    client.post("/api/v1/users", json=_user("ann", "contoso"), headers=admin_headers)
    refused = client.delete("/api/v1/connections/contoso", headers=admin_headers)
    assert refused.status_code == 409
    assert "1 user(s)" in refused.text


def test_users_join_leave_and_move_between_connections(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/connections", json=BASIC, headers=admin_headers)
    client.post("/api/v1/connections", json=OAUTH, headers=admin_headers)
    unknown = client.post("/api/v1/users", json=_user("ann", "nowhere"), headers=admin_headers)
    assert unknown.status_code == 422
    assert "no connection named 'nowhere'" in unknown.text
    both = client.post(
        "/api/v1/users",
        json={**_user("ann", "contoso"), "ews_url": EWS},
        headers=admin_headers,
    )
    assert both.status_code == 422
    assert "not both" in both.text

    user_id = client.post(
        "/api/v1/users", json=_user("ann", "contoso"), headers=admin_headers
    ).json()["user_id"]
    moved = client.patch(
        f"/api/v1/users/{user_id}", json={"connection": "contoso-oauth"}, headers=admin_headers
    )
    assert moved.json()["connection"] == "contoso-oauth"
    half = client.patch(f"/api/v1/users/{user_id}", json={"ews_url": EWS}, headers=admin_headers)
    assert half.status_code == 422
    own = {"type": "basic", "username": "ann@contoso.com", "password": "ann-own-pw"}
    left = client.patch(
        f"/api/v1/users/{user_id}", json={"ews_url": EWS, "auth": own}, headers=admin_headers
    )
    assert left.status_code == 200, left.text
    assert left.json()["connection"] is None
    assert left.json()["auth"]["has_secret"] is True
    back = client.patch(
        f"/api/v1/users/{user_id}", json={"connection": "contoso"}, headers=admin_headers
    )
    assert back.json()["auth"] is None
    assert back.json()["connection"] == "contoso"


def test_basic_to_ntlm_keeps_the_account_and_a_password_never_becomes_a_secret(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.post("/api/v1/connections", json=BASIC, headers=admin_headers)
    ntlm = client.patch("/api/v1/connections/contoso", json={"auth": "ntlm"}, headers=admin_headers)
    assert ntlm.status_code == 200, ntlm.text
    assert (ntlm.json()["username"], ntlm.json()["has_password"]) == ("svc@contoso.com", True)
    half = {"auth": "oauth2", "tenant": "t", "client_id": "c"}
    refused = client.patch("/api/v1/connections/contoso", json=half, headers=admin_headers)
    assert refused.status_code == 422
    assert "exactly one of them" in refused.text
