"""The authority MSAL talks to: OpenID configuration, client secrets and certificates."""

from __future__ import annotations

import datetime as dt

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from graph_simulator.testing import GraphSimulatorServer
from tests.graph_simulator.conftest import CLIENT_ID, OWNER, TENANT, acquire, msal_app, trust


def _certificate() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crmsync app")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def test_openid_configuration_names_this_host(sim: GraphSimulatorServer) -> None:
    url = f"{sim.authority(TENANT)}/v2.0/.well-known/openid-configuration"
    config = httpx.get(url, verify=trust(sim)).json()
    assert config["token_endpoint"] == f"{sim.url}/{TENANT}/oauth2/v2.0/token"


def test_a_wrong_secret_gets_no_token(sim: GraphSimulatorServer) -> None:
    result = acquire(msal_app(sim, "wrong"))
    assert result.get("error") == "invalid_client"


def test_a_certificate_assertion_gets_a_token_that_graph_accepts() -> None:
    key_pem, cert_pem = _certificate()
    with GraphSimulatorServer(users=[OWNER], certificates={CLIENT_ID: cert_pem.encode()}) as sim:
        app = msal_app(sim, {"private_key": key_pem, "public_certificate": cert_pem})
        result = acquire(app)
        assert "access_token" in result, result
        response = httpx.get(
            f"{sim.graph_url}/users/{OWNER}/contacts",
            headers={"Authorization": f"Bearer {result['access_token']}"},
            verify=trust(sim),
        )
        assert response.status_code == 200
        other_key, _ = _certificate()
        forged = acquire(msal_app(sim, {"private_key": other_key, "public_certificate": cert_pem}))
        assert forged.get("error") == "invalid_client"


def test_graph_refuses_missing_and_unknown_tokens(sim: GraphSimulatorServer) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = httpx.get(
            f"{sim.graph_url}/users/{OWNER}/contacts", headers=headers, verify=trust(sim)
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_unknown_users_are_invalid(graph) -> None:  # type: ignore[no-untyped-def]
    response = graph.client.get("/users/nobody@example.com/contacts")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ErrorInvalidUser"
