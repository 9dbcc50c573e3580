"""The contacts folder over Graph: the sync core's mailbox folder contract, batches, faults."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graph_simulator.testing import GraphSimulatorServer
from tests.connectors.graph.conftest import MAILBOX, SleepRecorder, connection_to
from workers.connectors.graph.client import AuthenticationFailed, GraphClient
from workers.connectors.graph.contacts import GraphContactCodec
from workers.connectors.graph.folder import GraphFolder
from workers.connectors.tag import GRAPH_TAG_PROPERTY_ID
from workers.sync.core.actions import CreateInOutlook, DeleteInOutlook, UpdateOutlook

FIELDS = (
    "title",
    "first_name",
    "last_name",
    "company",
    "email1",
    "email2",
    "business_phone",
    "mobile_phone",
    "business_fax",
    "business_street",
    "business_city",
    "business_country",
)


def _folder(client: GraphClient) -> GraphFolder:
    return GraphFolder(client, f"/users/{MAILBOX}/contacts", GraphContactCodec(FIELDS))


def _record(n: int) -> dict[str, object]:
    return {
        "title": "Dr",
        "first_name": "Ada",
        "last_name": f"Lovelace{n}",
        "company": "Analytical Engines",
        "email1": f"ada{n}@example.org",
        "email2": f"ada{n}@home.example.org",
        "business_phone": "+44 20 7946 0000",
        "mobile_phone": None,
        "business_fax": "+44 20 7946 0001",
        "business_street": "1 Babbage Row",
        "business_city": "London",
        "business_country": "United Kingdom",
    }


def test_create_list_update_delete_round_trip(
    client: GraphClient, sim: GraphSimulatorServer
) -> None:
    folder = _folder(client)
    created = folder.create_many([CreateInOutlook(_record(n), f"person-{n}") for n in range(45)])
    assert all(not isinstance(c, Exception) for c in created)
    assert sim.stats()["requests"]["batch"] == 3  # 45 creates in $batch requests of 20
    listing = folder.list_changes(None)
    assert listing.complete and len(listing.changes) == 45
    first = listing.changes[created[0].remote_id]  # type: ignore[union-attr]
    assert first is not None
    assert first.record == _record(0) and first.tag == "person-0"
    assert sim.mailbox(MAILBOX).contacts.items[first.remote_id].data["displayName"] == (
        "Ada Lovelace0"
    )

    changed = folder.update_many(
        [
            UpdateOutlook(
                first.remote_id,
                first.change_key,
                {"email1": "new@example.org"},
                current=first.record,
            )
        ]
    )
    assert isinstance(changed[0], str) and changed[0] != first.change_key
    gone = created[1].remote_id  # type: ignore[union-attr]
    assert folder.delete_many([DeleteInOutlook(gone)]) == [None]
    incremental = folder.list_changes(listing.sync_state)
    assert not incremental.complete
    updated = incremental.changes[first.remote_id]
    assert updated is not None
    # The other address travelled whole with the changed one.
    assert (updated.record["email1"], updated.record["email2"]) == (
        "new@example.org",
        "ada0@home.example.org",
    )
    assert incremental.changes[gone] is None


def test_find_by_tags_and_fetch(client: GraphClient) -> None:
    folder = _folder(client)
    created = folder.create_many([CreateInOutlook(_record(n), f"person-{n}") for n in range(3)])
    found = folder.find_by_tags(["person-2", "person-9"])
    assert list(found) == ["person-2"]
    ids = [c.remote_id for c in created if not isinstance(c, Exception)]
    folder.delete_many([DeleteInOutlook(ids[0])])
    fetched = folder.fetch([ids[0], ids[1]])
    assert fetched[ids[0]] is None
    assert fetched[ids[1]] is not None and fetched[ids[1]].tag == "person-1"  # type: ignore[union-attr]


def test_the_tag_is_the_property_ews_writes(client: GraphClient, sim: GraphSimulatorServer) -> None:
    folder = _folder(client)
    [created] = folder.create_many([CreateInOutlook(_record(1), "person-1")])
    stored = sim.mailbox(MAILBOX).contacts.items[created.remote_id]  # type: ignore[union-attr]
    assert {"id": GRAPH_TAG_PROPERTY_ID, "value": "person-1"} in stored.data[
        "singleValueExtendedProperties"
    ]
    assert GRAPH_TAG_PROPERTY_ID == (
        "String {6f0e1c5a-4b0a-4f43-9d1d-3c2b7a9e5c11} Name crmsync-crm-id"
    )


def test_throttled_batch_members_are_retried_after_retry_after(
    client: GraphClient, sim: GraphSimulatorServer, sleeps: SleepRecorder
) -> None:
    sim.add_fault("throttle", "contacts.create", count=2, back_off_ms=3000)
    created = _folder(client).create_many(
        [CreateInOutlook(_record(n), f"person-{n}") for n in range(5)]
    )
    assert all(not isinstance(c, Exception) for c in created)
    assert sleeps.waits == [3.0]
    assert sim.stats()["batched"]["contacts.create"] == 7
    assert len(sim.mailbox(MAILBOX).contacts.items) == 5


def test_throttled_and_unavailable_requests_are_retried(
    client: GraphClient, sim: GraphSimulatorServer, sleeps: SleepRecorder
) -> None:
    sim.add_fault("throttle", "contacts.delta", count=1, back_off_ms=2000)
    sim.add_fault("http_503", "contacts.delta", count=1, back_off_ms=1000)
    assert _folder(client).list_changes(None).complete
    assert sleeps.waits == [2.0, 1.0]


def test_an_expired_delta_token_means_a_full_listing_without_duplicates(
    client: GraphClient, sim: GraphSimulatorServer
) -> None:
    folder = _folder(client)
    folder.create_many([CreateInOutlook(_record(n), f"person-{n}") for n in range(3)])
    state = folder.list_changes(None).sync_state
    sim.add_fault("sync_state_not_found", "contacts.delta", count=1)
    listing = folder.list_changes(state)
    assert listing.complete
    assert sorted(i.tag for i in listing.changes.values() if i) == [
        "person-0",
        "person-1",
        "person-2",
    ]


def test_a_wrong_secret_is_an_authentication_failure(sim: GraphSimulatorServer) -> None:
    connection = replace(connection_to(sim), client_secret="wrong-secret")
    with pytest.raises(AuthenticationFailed) as failure:
        _folder(GraphClient(connection)).list_changes(None)
    assert failure.value.code == "invalid_client"
    assert "wrong-secret" not in str(failure.value) and "wrong-secret" not in repr(connection)
