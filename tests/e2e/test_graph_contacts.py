"""Contacts over Microsoft Graph end to end (see GraphUser in conftest)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.crm import Person
from app.models.sync import RunStatus
from tests.e2e.conftest import GraphUser
from tests.factories.crm import person
from workers.connectors.tag import GRAPH_TAG_PROPERTY_ID

ADA = {
    "pers_salutation": "Dr.",
    "pers_firstname": "Ada",
    "pers_lastname": "Lovelace",
    "pers_title": "Engineer",
    "company.comp_name": "Analytical Engines",
    "email.Business": "ada@engines.example.com",
    "email.Private": "ada@home.example.com",
    "phone.Business": "+44 (20) 7946 0958",
    "address.addr_city": "London",
}


def counts(run: Any) -> dict[str, dict[str, int]]:
    return dict(run.counts.get("contacts", {}))


def test_first_and_incremental_sync_both_ways(db: Session, graph_user: GraphUser) -> None:
    ada_id = person(db, flagged_for=graph_user.user_id, **ADA)
    graph_user.box.add(
        graph_user.box.contacts,
        {
            "givenName": "Grace",
            "surname": "Hopper",
            "displayName": "Grace Hopper",
            "emailAddresses": [{"address": "grace@navy.example.com", "name": "Grace"}],
            "mobilePhone": "+1 (202) 555 0100",
        },
        "contact",
    )
    db.commit()

    run = graph_user.sync()
    assert run.status == RunStatus.SUCCESS, run
    assert counts(run)["crm_to_outlook"]["created"] == 1
    assert counts(run)["outlook_to_crm"]["created"] == 1
    by_name = {c["surname"]: c for c in graph_user.contacts()}
    ada = by_name["Lovelace"]
    assert (ada["givenName"], ada["title"], ada["jobTitle"]) == ("Ada", "Dr.", "Engineer")
    assert [e["address"] for e in ada["emailAddresses"]] == [
        "ada@engines.example.com",
        "ada@home.example.com",
    ]
    assert ada["businessPhones"] == ["+44 (20) 7946 0958"]
    assert {"id": GRAPH_TAG_PROPERTY_ID, "value": str(ada_id)} in ada[
        "singleValueExtendedProperties"
    ]

    graph_user.sim.clear_stats()
    quiet = graph_user.sync()
    assert quiet.status == RunStatus.SUCCESS and not counts(quiet), quiet.counts
    # Contacts and tasks: metadata, token, a delta per entity, the default To Do list's id.
    assert graph_user.sim.stats()["total_requests"] == 5, graph_user.sim.stats()

    grace_id = next(
        i for i, item in graph_user.box.contacts.items.items() if item.data["surname"] == "Hopper"
    )
    grace = graph_user.box.contacts.items[grace_id]
    grace.data["jobTitle"] = "Rear Admiral"
    graph_user.box.touch(grace)
    changed = graph_user.sync()
    assert counts(changed)["outlook_to_crm"]["updated"] == 1
    hopper = db.scalars(select(Person).where(Person.pers_lastname == "Hopper")).one()
    assert hopper.pers_title == "Rear Admiral"


def test_an_expired_delta_token_resyncs_without_duplicates(
    db: Session, graph_user: GraphUser
) -> None:
    for n in range(25):
        person(db, flagged_for=graph_user.user_id, pers_firstname="P", pers_lastname=f"N{n}")
    db.commit()
    assert graph_user.sync().status == RunStatus.SUCCESS
    assert len(graph_user.contacts()) == 25
    graph_user.sim.simulator.api.deltas.clear()  # every delta token expires: 410
    run = graph_user.sync()
    assert run.status == RunStatus.SUCCESS, run
    assert not counts(run), run.counts
    assert len(graph_user.contacts()) == 25


def test_throttling_is_waited_out(
    db: Session, graph_user: GraphUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        person(db, flagged_for=graph_user.user_id, pers_firstname="T", pers_lastname=f"N{n}")
    db.commit()
    graph_user.sim.add_fault("throttle", "contacts.create", count=1, back_off_ms=1000)
    run = graph_user.sync()
    assert run.status == RunStatus.SUCCESS, run
    assert counts(run)["crm_to_outlook"]["created"] == 3
    assert len(graph_user.contacts()) == 3


def test_first_sync_writes_in_batches_of_twenty(db: Session, graph_user: GraphUser) -> None:
    for n in range(100):
        person(db, flagged_for=graph_user.user_id, pers_firstname="B", pers_lastname=f"N{n}")
    db.commit()
    graph_user.sim.clear_stats()
    run = graph_user.sync()
    assert counts(run)["crm_to_outlook"]["created"] == 100
    stats = graph_user.sim.stats()
    assert stats["batched"]["contacts.create"] == 100
    print("graph first sync of 100 contacts:", stats["requests"])
    assert stats["requests"]["batch"] <= 6, stats  # 5 batches of 20 + tag look-ups
