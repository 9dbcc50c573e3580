"""The simulator's HTTPS and OAuth2: its authority, and bearer tokens checked for audience,
expiry, impersonation and transport."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ews_simulator.testing import SimulatorServer
from tests.ews_simulator.test_server import ENVELOPE

TENANT = "contoso"
CLIENT, SECRET = "app", "app-secret-value"
GET_INBOX = ENVELOPE.format(
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'
)
IMPERSONATING = GET_INBOX.replace(
    "<s:Body>",
    "<s:Header><t:ExchangeImpersonation><t:ConnectingSID>"
    "<t:PrimarySmtpAddress>ann@example.com</t:PrimarySmtpAddress>"
    "</t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body>",
)


@pytest.fixture(scope="module")
def https_sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(tls=True, clients={CLIENT: SECRET}) as server:
        yield server


def _client(sim: SimulatorServer) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=sim.ca_file), timeout=10)


def _token(sim: SimulatorServer, scope: str) -> httpx.Response:
    with _client(sim) as client:
        return client.post(
            f"{sim.authority(TENANT)}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT,
                "client_secret": SECRET,
                "scope": scope,
            },
        )


def _ews(sim: SimulatorServer, body: str, token: str) -> httpx.Response:
    with _client(sim) as client:
        return client.post(
            sim.ews_url,
            content=body.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/xml"},
        )


def test_the_authority_describes_itself_for_msal(https_sim: SimulatorServer) -> None:
    assert https_sim.url.startswith("https://")
    with _client(https_sim) as client:
        config = client.get(
            f"{https_sim.authority(TENANT)}/v2.0/.well-known/openid-configuration"
        ).json()
    assert config["token_endpoint"] == f"{https_sim.url}/{TENANT}/oauth2/v2.0/token"


def test_tokens_are_for_this_server_s_audience_only(https_sim: SimulatorServer) -> None:
    wrong = _token(https_sim, "https://outlook.office365.com/.default")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_scope"
    right = _token(https_sim, f"{https_sim.url}/.default")
    assert right.status_code == 200
    assert right.json()["expires_in"] > 0


def test_a_token_acts_through_impersonation_until_it_expires(https_sim: SimulatorServer) -> None:
    token = _token(https_sim, f"{https_sim.url}/.default").json()["access_token"]
    assert _ews(https_sim, IMPERSONATING, token).status_code == 200
    alone = _ews(https_sim, GET_INBOX, token)
    assert alone.status_code == 500
    assert "ExchangeImpersonation SOAP header must be present" in alone.text
    assert https_sim.simulator.oauth is not None
    https_sim.simulator.oauth.authority.expire_all()
    expired = _ews(https_sim, IMPERSONATING, token)
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_plain_http_serves_no_authority_and_takes_no_bearer_token() -> None:
    with SimulatorServer() as plain:
        assert plain.url.startswith("http://")
        token = plain.url  # any string: it must be refused whatever it is
        response = httpx.post(
            plain.ews_url,
            content=IMPERSONATING.encode(),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401
        missing = httpx.post(f"{plain.url}/{TENANT}/oauth2/v2.0/token", data={})
        assert missing.status_code == 404


def test_the_command_writes_its_ca_and_serves_https(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "ews_simulator.cli", "--port", "0", "--tls", "--ca-out", str(ca),
         "--client", f"{CLIENT}:{SECRET}", "--token-lifetime", "60"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on https://" in line, line
        url = line.split()[-1]
        with httpx.Client(verify=ssl.create_default_context(cafile=ca), timeout=10) as client:
            answer = client.post(
                f"{url}/{TENANT}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": CLIENT,
                    "client_secret": SECRET,
                    "scope": f"{url}/.default",
                },
            )
        assert answer.json()["expires_in"] == 60
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_refuses_clients_without_tls() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ews_simulator.cli", "--client", "a:b"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "need --tls" in result.stderr
