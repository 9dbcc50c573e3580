"""Contacts: CRUD, extended properties by $expand and $filter, delta rounds and expiry."""

from __future__ import annotations

from graph_simulator.testing import GraphSimulatorServer
from tests.graph_simulator.conftest import Graph

TAG = "String {6f0e1c5a-4b0a-4f43-9d1d-3c2b7a9e5c11} Name crmsync-crm-id"
EXPAND = f"singleValueExtendedProperties($filter=id eq '{TAG}')"


def _contact(n: int, tag: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "givenName": "Ada",
        "surname": f"Lovelace{n}",
        "emailAddresses": [{"address": f"ada{n}@example.org", "name": "Ada"}],
        "businessPhones": ["+44 1"],
    }
    if tag:
        body["singleValueExtendedProperties"] = [{"id": TAG, "value": tag}]
    return body


def test_create_read_update_delete(graph: Graph) -> None:
    created = graph.request("POST", "/contacts", "contact", json=_contact(1, "person-7"))
    assert created.status_code == 201
    contact = created.json()
    assert contact["displayName"] == "Ada Lovelace1"
    assert "singleValueExtendedProperties" not in contact
    read = graph.request("GET", f"/contacts/{contact['id']}", "contact", params={"$expand": EXPAND})
    assert read.json()["singleValueExtendedProperties"] == [{"id": TAG, "value": "person-7"}]
    patched = graph.request(
        "PATCH", f"/contacts/{contact['id']}", "contact", json={"jobTitle": "CTO"}
    )
    assert patched.json()["jobTitle"] == "CTO"
    assert patched.json()["changeKey"] != contact["changeKey"]
    assert graph.request("DELETE", f"/contacts/{contact['id']}").status_code == 204
    assert graph.request("GET", f"/contacts/{contact['id']}").status_code == 404


def test_filter_by_extended_property_finds_the_tagged_contact(graph: Graph) -> None:
    for n in range(3):
        graph.request("POST", "/contacts", json=_contact(n, f"person-{n}"))
    wanted = f"singleValueExtendedProperties/Any(ep: ep/id eq '{TAG}' and ep/value eq 'person-1')"
    found = graph.request(
        "GET", "/contacts", "contact", params={"$filter": wanted, "$expand": EXPAND}
    )
    assert [c["surname"] for c in found.json()["value"]] == ["Lovelace1"]


def test_unsupported_filters_are_refused(graph: Graph) -> None:
    response = graph.request("GET", "/contacts", params={"$filter": "startswith(surname,'A')"})
    assert response.status_code == 400


def test_delta_pages_changes_and_removals(graph: Graph, sim: GraphSimulatorServer) -> None:
    sim.seed("owner@example.com", contacts=25)
    prefer = {"Prefer": "odata.maxpagesize=10"}
    values, delta_link, pages = graph.delta_round(
        "/contacts/delta", "contact", headers=prefer, params={"$select": "givenName,surname"}
    )
    assert (len(values), pages) == (25, 3)
    assert set(values[0]) <= {"@odata.etag", "id", "givenName", "surname", "@odata.type"}
    first, second = values[0]["id"], values[1]["id"]
    graph.request("PATCH", f"/contacts/{first}", json={"surname": "Changed"})
    graph.request("DELETE", f"/contacts/{second}")
    changes, delta_link, _ = graph.delta_round(delta_link, "contact", headers=prefer)
    assert {c["id"]: c.get("surname") or c.get("@removed") for c in changes} == {
        first: "Changed",
        second: {"reason": "deleted"},
    }
    assert graph.delta_round(delta_link, "contact")[0] == []


def test_expired_delta_tokens_answer_410(graph: Graph, sim: GraphSimulatorServer) -> None:
    _, delta_link, _ = graph.delta_round("/contacts/delta", "contact")
    sim.simulator.api.deltas.clear()
    response = graph.request("GET", delta_link)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "syncStateNotFound"
