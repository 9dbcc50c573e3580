"""JSON $batch, injected faults (429 with Retry-After, 503, 410), the control API and the CLI."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from graph_simulator.testing import GraphSimulatorServer
from tests.graph_simulator.conftest import OWNER, Graph, trust


def _create(n: int) -> dict[str, object]:
    return {
        "id": str(n),
        "method": "POST",
        "url": f"/users/{OWNER}/contacts",
        "headers": {"Content-Type": "application/json"},
        "body": {"givenName": "Ada", "surname": f"B{n}"},
    }


def test_batch_of_twenty_with_a_throttled_member(graph: Graph, sim: GraphSimulatorServer) -> None:
    sim.add_fault("throttle", "contacts.create", count=1, back_off_ms=2000)
    response = graph.client.post("/$batch", json={"requests": [_create(n) for n in range(20)]})
    assert response.status_code == 200
    answers = response.json()["responses"]
    statuses = sorted(a["status"] for a in answers)
    assert statuses == [201] * 19 + [429]
    throttled = next(a for a in answers if a["status"] == 429)
    assert throttled["headers"]["Retry-After"] == "2"
    assert sim.stats()["requests"]["batch"] == 1
    assert sim.stats()["batched"]["contacts.create"] == 20


def test_batches_above_twenty_are_refused(graph: Graph) -> None:
    response = graph.client.post("/$batch", json={"requests": [_create(n) for n in range(21)]})
    assert response.status_code == 400


def test_faults_through_the_control_api(graph: Graph, sim: GraphSimulatorServer) -> None:
    admin = httpx.Client(base_url=sim.url, verify=trust(sim))
    assert admin.post(
        "/_sim/faults", json={"kind": "http_503", "operation": "contacts.list"}
    ).json()
    assert admin.post("/_sim/faults", json={"kind": "bogus"}).status_code == 400
    first = graph.request("GET", "/contacts")
    assert (first.status_code, first.headers["Retry-After"]) == (503, "1")
    assert graph.request("GET", "/contacts").status_code == 200
    seeded = admin.post("/_sim/seed", json={"mailbox": OWNER, "contacts": 3, "tasks": 2}).json()
    assert seeded["created"]["contacts"] == 3
    admin.post("/_sim/faults", json={"kind": "sync_state_not_found", "operation": "contacts.delta"})
    assert graph.request("GET", "/contacts/delta").status_code == 410
    stats = admin.get("/_sim/stats").json()
    assert stats["mailboxes"][OWNER]["items"] == 5
    assert stats["requests"]["contacts.list"] == 2
    assert admin.post("/_sim/reset").json() == {"reset": True}


def test_the_command_prints_its_url_and_writes_its_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graph_simulator.cli",
            "--port",
            "0",
            "--user",
            OWNER,
            "--client",
            "app:secret",
            "--ca-out",
            str(ca),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("graph-simulator listening on https://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        config = httpx.get(
            f"{url}/contoso/v2.0/.well-known/openid-configuration",
            verify=ssl.create_default_context(cafile=str(ca)),
        )
        assert config.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("spec", ["app", "app:"])
def test_the_command_refuses_bad_clients(spec: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graph_simulator.cli", "--client", spec],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "ID:SECRET" in result.stderr
