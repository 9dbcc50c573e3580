"""Auth, impersonation, the test API, injected faults, hostile input and persistence."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from exchangelib import DELEGATE, IMPERSONATION, Account, Contact, FaultTolerance
from exchangelib.errors import (
    ErrorImpersonateUserDenied,
    ErrorInvalidSyncStateData,
    ErrorIrresolvableConflict,
    ErrorTimeoutExpired,
    UnauthorizedError,
)
from exchangelib.folders import Folder
from exchangelib.transport import NOAUTH

from ews_simulator.testing import SimulatorServer
from tests.ews_simulator.conftest import OWNER, SERVICE, make_config

ENVELOPE = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body>{}</s:Body></s:Envelope>'
)


def post(
    sim: SimulatorServer, body: bytes, auth: tuple[str, str] | None = (OWNER, "x")
) -> httpx.Response:
    return httpx.post(sim.ews_url, content=body, auth=auth, headers={"Content-Type": "text/xml"})


def test_impersonation(
    impersonating_account: Account, account: Account, sim: SimulatorServer
) -> None:
    Contact(folder=impersonating_account.contacts, display_name="Via service").save()
    assert [c.display_name for c in account.contacts.all()] == ["Via service"]
    other = Account(
        "someone@example.com",
        config=make_config(sim),
        autodiscover=False,
        access_type=IMPERSONATION,
    )
    with pytest.raises(ErrorImpersonateUserDenied):
        other.contacts.all().count()
    assert sim.stats()["mailboxes"][OWNER]["requests"] >= 3


def test_no_auth_mode_uses_the_impersonated_mailbox() -> None:
    with SimulatorServer(no_auth=True) as open_sim:
        config = make_config(open_sim, auth_type=NOAUTH)
        account = Account(OWNER, config=config, autodiscover=False, access_type=IMPERSONATION)
        Contact(folder=account.contacts, display_name="Open").save()
        assert open_sim.stats()["mailboxes"][OWNER]["items"] == 1


def test_basic_auth_required(sim: SimulatorServer) -> None:
    response = post(sim, ENVELOPE.format("<m:GetFolder/>").encode(), auth=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    with SimulatorServer(users={"alice@example.com": "pw"}) as strict:
        bad = make_config(strict, user="alice@example.com")  # wrong password
        account = Account("alice@example.com", config=bad, autodiscover=False, access_type=DELEGATE)
        with pytest.raises(UnauthorizedError):
            account.contacts.all().count()


def test_unknown_distinguished_folder(sim: SimulatorServer) -> None:
    request = (
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        '<m:FolderIds><t:DistinguishedFolderId Id="archiveinbox"/>'
        '<t:DistinguishedFolderId Id="inbox"/>'
        "</m:FolderIds></m:GetFolder>"
    )
    response = post(sim, ENVELOPE.format(request).encode())
    assert response.status_code == 200
    assert response.text.count("ErrorFolderNotFound") == 1
    assert response.text.count('ResponseClass="Success"') == 1


def test_find_and_create_folders(account: Account) -> None:
    Folder(parent=account.inbox, name="CRM Archive").save()
    assert [f.name for f in account.inbox.children] == ["CRM Archive"]
    names = {f.name for f in account.root.walk()}
    assert {"Inbox", "Calendar", "Contacts", "Tasks", "CRM Archive"} <= names
    assert account.inbox / "CRM Archive"


def test_test_api_and_stats(sim: SimulatorServer, account: Account) -> None:
    api = httpx.Client(base_url=sim.url)
    assert api.post("/_sim/mailboxes", json={"smtp": OWNER}).status_code == 200
    spec = {"contacts": 3, "appointments": 2, "recurring": 1, "tasks": 2, "messages": 2, "seed": 1}
    assert api.post(f"/_sim/mailboxes/{OWNER}/seed", json=spec).json()["items"] == 10
    first = sorted(c.display_name for c in account.contacts.all())
    api.post("/_sim/reset")
    api.post(f"/_sim/mailboxes/{OWNER}/seed", json=spec)
    assert sorted(c.display_name for c in account.contacts.all()) == first
    stats = api.get("/_sim/stats").json()
    assert stats["requests"]["FindItem"] >= 1
    assert stats["mailboxes"][OWNER]["items"] == 10
    api.delete("/_sim/stats")
    assert api.get("/_sim/stats").json()["requests"] == {}
    assert api.post("/_sim/faults", json={"kind": "nonsense"}).status_code == 400
    assert api.get("/_sim/nowhere").status_code == 404


def test_fault_tolerance_rides_through_throttling(sim: SimulatorServer) -> None:
    # exchangelib caches protocols per endpoint and credentials: a user of its own gets the policy.
    config = make_config(sim, user="patient@example.com", retry_policy=FaultTolerance(max_wait=30))
    account = Account(
        "patient@example.com", config=config, autodiscover=False, access_type=DELEGATE
    )
    sim.add_fault("server_busy", "FindItem", count=2, back_off_ms=10)
    sim.add_fault("http_503", "FindItem", count=1, back_off_ms=10)
    sim.add_fault("slow", "FindItem", count=1, delay_ms=50)
    assert account.contacts.all().count() == 0
    assert sim.stats()["requests"]["FindItem"] == 4  # three refused, then one slow success
    assert sim.simulator.control.faults == []


def test_dropped_connection_surfaces_as_transient_error(
    account: Account, sim: SimulatorServer
) -> None:
    # exchangelib retries a dropped connection only while it can shrink its session pool; with
    # one session it raises ErrorTimeoutExpired and leaves the retry to the caller.
    sim.add_fault("drop", "FindItem", mailbox=OWNER, count=1)
    with pytest.raises(ErrorTimeoutExpired):
        account.contacts.all().count()
    assert account.contacts.all().count() == 0


def test_injected_conflict_and_sync_state(account: Account, sim: SimulatorServer) -> None:
    contact = Contact(folder=account.contacts, display_name="X")
    contact.save()
    sim.add_fault("irresolvable_conflict", "UpdateItem")
    contact.display_name = "Y"
    with pytest.raises(ErrorIrresolvableConflict):
        contact.save(update_fields=["display_name"])
    sim.add_fault("invalid_sync_state", "SyncFolderItems", mailbox=OWNER)
    with pytest.raises(ErrorInvalidSyncStateData):
        list(account.contacts.sync_items())


def test_stale_changekey_with_never_overwrite(account: Account) -> None:
    contact = Contact(folder=account.contacts, display_name="X")
    contact.save()
    stale = account.contacts.get(id=contact.id)
    contact.display_name = "Y"
    contact.save(update_fields=["display_name"])
    stale.display_name = "Z"
    with pytest.raises(ErrorIrresolvableConflict):
        stale.save(update_fields=["display_name"], conflict_resolution="NeverOverwrite")
    stale.save(update_fields=["display_name"], conflict_resolution="AlwaysOverwrite")
    assert account.contacts.get(id=contact.id).display_name == "Z"


def test_bad_sync_state(account: Account) -> None:
    with pytest.raises(ErrorInvalidSyncStateData):
        list(account.contacts.sync_items(sync_state="garbage"))


@pytest.mark.parametrize(
    "body",
    [
        b"<not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        ENVELOPE.format("<m:FrobnicateItem/>").encode(),
        b"<plain/>",
    ],
)
def test_hostile_input_gets_a_soap_fault(sim: SimulatorServer, body: bytes) -> None:
    response = post(sim, body)
    assert response.status_code == 500
    assert b"Fault" in response.content


def test_oversized_and_stalled_requests(sim: SimulatorServer) -> None:
    host, port = sim.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
        )
        assert b"413" in sock.recv(1024)
    # A client that stalls mid-request does not block others.
    stalled = socket.create_connection((host, int(port)))
    stalled.sendall(b"POST /EWS/Exchange.asmx HTTP/1.1\r\nContent-Length: 100\r\n\r\n<")
    assert post(sim, b"<bad").status_code == 500
    stalled.close()


def test_cli_persists_data(tmp_path: Path) -> None:
    data = tmp_path / "state.json"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ews_simulator.cli",
                "--port",
                str(port),
                "--data",
                str(data),
                "--no-auth",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert (
            proc.stdout.readline().strip() == f"ews-simulator listening on http://127.0.0.1:{port}"
        )
        assert (
            proc.stdout.readline().strip()
            == f"EWS endpoint: http://127.0.0.1:{port}/EWS/Exchange.asmx"
        )
        assert "requests without credentials are accepted" in proc.stderr.readline()
        return proc

    proc = start()
    base = f"http://127.0.0.1:{port}"
    httpx.post(f"{base}/_sim/mailboxes/{OWNER}/seed", json={"contacts": 5, "recurring": 1})
    proc.terminate()
    proc.wait(timeout=10)
    assert json.loads(data.read_text())["mailboxes"]
    proc = start()
    try:
        assert httpx.get(f"{base}/_sim/stats").json()["mailboxes"][OWNER]["items"] == 6
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    time.sleep(0)


def test_cli_help_shows_the_defaults() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "ews_simulator.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "(default: 127.0.0.1)" in shown and "(default: 8765)" in shown


def test_cli_without_users_warns_that_any_credentials_pass() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ews_simulator.cli", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith("ews-simulator listening on")
        assert proc.stderr.readline().strip() == (
            "warning: no --user given: any NAME@DOMAIN signs in, with any password"
        )
        any_login = httpx.post(
            f"http://127.0.0.1:{port}/EWS/Exchange.asmx",
            content=b"<not-soap/>",
            auth=("anyone@example.com", "anything"),
        )
        assert any_login.status_code != 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_service_account_fixture_shape(sim: SimulatorServer) -> None:
    config = make_config(sim, user=SERVICE)
    account = Account(OWNER, config=config, autodiscover=False, access_type=IMPERSONATION)
    assert account.calendar.all().count() == 0
