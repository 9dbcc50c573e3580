"""Two-way contact sync, all the way through PostgreSQL, exchangelib and the simulator."""

from __future__ import annotations

import time
from typing import Any

import pytest
from exchangelib import Contact
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.conflicts import service as conflicts_service
from app.conflicts.schemas import ConflictResolve, ConflictSide
from app.crm.flags import flagged_person_ids, unflag_person
from app.crm.people import load_people
from app.crm.writer import PersonWriter
from app.models.auth import KeyKind
from app.models.crm import Address, AddressLink, Person
from app.models.sync import FolderState, RunStatus, SyncConflict, SyncLink
from app.sync_settings import service as settings_service
from app.sync_settings.schemas import SettingsPatch
from ews_simulator.testing import SimulatorServer
from tests.e2e.conftest import Mailbox
from tests.factories.crm import person
from workers.sync.runner import RunRequest, run_user_sync

ADMIN = Principal(kind=KeyKind.ADMIN, user_id=None, key_id=0)

ADA = {
    "pers_salutation": "Dr.",
    "pers_firstname": "Ada",
    "pers_lastname": "Lovelace",
    "pers_title": "Engineer",
    "pers_department": "R&D",
    "pers_website": "https://ada.example.com",
    "company.comp_name": "Analytical Engines",
    "email.Business": "ada@engines.example.com",
    "email.Private": "ada@home.example.com",
    "phone.Business": "+44 (20) 7946 0958",
    "phone.Mobile": "+44 7700 900123",
    "address.street": "12 Byron Road\nFloor 2",
    "address.addr_city": "London",
    "address.addr_postcode": "N1 9GU",
    "address.addr_country": "UK",
}


def sync(box: Mailbox) -> Any:
    run = run_user_sync(RunRequest(user_id=box.user_id, trigger="test"))
    # The test's own session must not answer from objects it loaded before the run.
    box.db.expire_all()
    return run


def contacts(box: Mailbox) -> list[Contact]:
    return list(box.outlook.contacts.all())


def only_contact(box: Mailbox) -> Contact:
    found = contacts(box)
    assert len(found) == 1, [c.display_name for c in found]
    return found[0]


def only_contact_named(box: Mailbox, surname: str) -> Contact:
    (found,) = [c for c in contacts(box) if c.surname == surname]
    return found


def counts(run: Any, entity: str = "contacts") -> dict[str, dict[str, int]]:
    return dict(run.counts.get(entity, {}))


def settle(box: Mailbox) -> None:
    """Runs until a run changes nothing; asserts that happens quickly."""
    for _ in range(3):
        run = sync(box)
        assert run.status == RunStatus.SUCCESS, run
        if not counts(run):
            return
    pytest.fail(f"no quiescence: {run.counts}")


def set_contacts(db: Session, **entity: str) -> None:
    settings_service.update_global(db, SettingsPatch.model_validate({"contacts": entity}))
    db.commit()


def outlook_contact(box: Mailbox, **fields: Any) -> Contact:
    contact = Contact(account=box.outlook, folder=box.outlook.contacts, **fields)
    contact.save()
    return contact


def test_first_sync_both_ways_with_every_default_field(db: Session, mailbox: Mailbox) -> None:
    ada_id = person(db, flagged_for=mailbox.user_id, **ADA)
    outlook_contact(
        mailbox,
        given_name="Grace",
        surname="Hopper",
        display_name="Grace Hopper",
        job_title="Admiral",
        company_name="Navy",
        email_addresses=[EmailAddress(email="grace@navy.example.com", label="EmailAddress1")],
        phone_numbers=[PhoneNumber(phone_number="+1 (202) 555 0100", label="MobilePhone")],
        physical_addresses=[
            PhysicalAddress(label="Business", street="1 Pentagon", city="Arlington", country="US")
        ],
    )
    db.commit()

    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS, run
    assert counts(run)["crm_to_outlook"]["created"] == 1
    assert counts(run)["outlook_to_crm"]["created"] == 1

    by_name = {c.surname: c for c in contacts(mailbox)}
    ada = by_name["Lovelace"]
    assert (ada.given_name, ada.job_title, ada.department) == ("Ada", "Engineer", "R&D")
    assert ada.company_name == "Analytical Engines"
    assert ada.business_homepage == "https://ada.example.com"
    assert getattr(ada, "display_name_prefix", None) == "Dr."
    assert {e.label: e.email for e in ada.email_addresses} == {
        "EmailAddress1": "ada@engines.example.com",
        "EmailAddress2": "ada@home.example.com",
    }
    assert {p.label: p.phone_number for p in ada.phone_numbers} == {
        "BusinessPhone": "+44 (20) 7946 0958",
        "MobilePhone": "+44 7700 900123",
    }
    (address,) = ada.physical_addresses
    assert (address.label, address.street, address.city) == (
        "Business",
        "12 Byron Road\nFloor 2",
        "London",
    )

    flagged = flagged_person_ids(db, mailbox.user_id)
    assert ada_id in flagged and len(flagged) == 2
    grace_id = next(iter(flagged - {ada_id}))
    grace = load_people(db, [grace_id])[grace_id]
    assert grace["pers_firstname"] == "Grace"
    assert grace["pers_title"] == "Admiral"
    assert grace["email.Business"] == "grace@navy.example.com"
    assert grace["phone.Mobile"] == "+1 (202) 555 0100"
    assert grace["address.street"] == "1 Pentagon"
    # The company is linked by exact name only; unknown companies are not created by default,
    # but the name is kept so that it stays in Outlook.
    assert db.get(Person, grace_id).pers_companyid is None  # type: ignore[union-attr]
    assert grace["company.comp_name"] == "Navy"
    assert only_contact_named(mailbox, "Hopper").company_name == "Navy"


def test_second_run_changes_nothing_and_costs_little(
    db: Session, mailbox: Mailbox, simulator: SimulatorServer
) -> None:
    for n in range(5):
        person(db, flagged_for=mailbox.user_id, pers_lastname=f"Person {n}")
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS
    simulator.clear_stats()
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS
    assert counts(run) == {}
    requests = simulator.stats()["requests"]
    assert set(requests) <= {"SyncFolderItems", "GetFolder"}, requests


def test_edits_flow_both_ways(db: Session, mailbox: Mailbox) -> None:
    ada_id = person(db, flagged_for=mailbox.user_id, **ADA)
    db.commit()
    sync(mailbox)

    ada = db.get(Person, ada_id)
    assert ada is not None
    PersonWriter(db, None, create_companies=False).update(
        ada, {"pers_title": "Chief Engineer", "phone.Home": "+44 (20) 1111 2222"}
    )
    db.commit()
    contact = only_contact(mailbox)
    contact.department = "Mathematics"
    contact.save(update_fields=["department"])

    run = sync(mailbox)
    assert counts(run)["crm_to_outlook"]["updated"] == 1
    assert counts(run)["outlook_to_crm"]["updated"] == 1
    contact = only_contact(mailbox)
    assert contact.job_title == "Chief Engineer"
    assert contact.department == "Mathematics"
    assert {p.label for p in contact.phone_numbers} == {"BusinessPhone", "MobilePhone", "HomePhone"}
    values = load_people(db, [ada_id])[ada_id]
    assert values["pers_department"] == "Mathematics"
    assert values["pers_title"] == "Chief Engineer"
    settle(mailbox)


def test_first_sync_matches_existing_contacts_instead_of_duplicating(
    db: Session, mailbox: Mailbox
) -> None:
    person(db, flagged_for=mailbox.user_id, **ADA)
    person(
        db,
        flagged_for=mailbox.user_id,
        pers_firstname="Alan",
        pers_lastname="Turing",
        **{"company.comp_name": "Bletchley"},
    )
    db.commit()
    outlook_contact(
        mailbox,
        given_name="Ada",
        surname="Lovelace",
        display_name="Ada Lovelace",
        email_addresses=[EmailAddress(email="ADA@engines.example.com", label="EmailAddress1")],
    )
    outlook_contact(
        mailbox,
        given_name="Alan",
        surname="Turing",
        display_name="Alan Turing",
        company_name="Bletchley",
        job_title="Codebreaker",
    )
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS
    assert len(contacts(mailbox)) == 2
    assert len(flagged_person_ids(db, mailbox.user_id)) == 2
    assert db.scalar(select(Person).where(Person.pers_title == "Codebreaker")) is not None
    settle(mailbox)


def test_unflagged_and_deleted_persons_leave_outlook(db: Session, mailbox: Mailbox) -> None:
    keep = person(db, flagged_for=mailbox.user_id, pers_lastname="Keep")
    unflagged = person(db, flagged_for=mailbox.user_id, pers_lastname="Unflagged")
    deleted = person(db, flagged_for=mailbox.user_id, pers_lastname="Deleted")
    db.commit()
    sync(mailbox)
    assert len(contacts(mailbox)) == 3

    unflag_person(db, mailbox.user_id, unflagged)
    doomed = db.get(Person, deleted)
    assert doomed is not None
    PersonWriter(db, None, create_companies=False).soft_delete(doomed)
    db.commit()
    run = sync(mailbox)
    assert counts(run)["crm_to_outlook"]["deleted"] == 2
    assert [c.surname for c in contacts(mailbox)] == ["Keep"]
    assert keep in flagged_person_ids(db, mailbox.user_id)


@pytest.mark.parametrize(
    ("policy", "flagged", "live"),
    [("unflag", False, True), ("delete", False, False), ("unlink", True, True)],
)
def test_outlook_deletion_follows_the_policy(
    db: Session, mailbox: Mailbox, policy: str, flagged: bool, live: bool
) -> None:
    set_contacts(db, on_outlook_delete=policy)
    person_id = person(db, flagged_for=mailbox.user_id, pers_lastname="Gone")
    db.commit()
    sync(mailbox)
    only_contact(mailbox).delete()

    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS
    assert (person_id in flagged_person_ids(db, mailbox.user_id)) is flagged
    stored = db.get(Person, person_id)
    assert stored is not None and stored.is_live is live
    links = db.scalars(select(SyncLink).where(SyncLink.user_id == mailbox.user_id)).all()
    assert links == []
    if policy == "unlink":
        # Still flagged, so the next run offers it to Outlook again: unlink never loses data.
        sync(mailbox)
        assert len(contacts(mailbox)) == 1


def test_crm_to_outlook_only_mirrors_the_crm(db: Session, mailbox: Mailbox) -> None:
    set_contacts(db, direction="crm_to_outlook")
    person(db, flagged_for=mailbox.user_id, pers_firstname="Ada", pers_lastname="Lovelace")
    db.commit()
    outlook_contact(mailbox, given_name="Outlook", surname="Only", display_name="Outlook Only")
    sync(mailbox)
    assert len(flagged_person_ids(db, mailbox.user_id)) == 1
    ada = next(c for c in contacts(mailbox) if c.surname == "Lovelace")
    ada.given_name = "Augusta"
    ada.save(update_fields=["given_name"])
    sync(mailbox)
    ada = next(c for c in contacts(mailbox) if c.surname == "Lovelace")
    assert ada.given_name == "Ada"
    overwritten = db.scalars(select(SyncConflict)).all()
    assert [c.field for c in overwritten] == ["first_name"]


def test_outlook_to_crm_only_never_writes_outlook(db: Session, mailbox: Mailbox) -> None:
    set_contacts(db, direction="outlook_to_crm")
    person(db, flagged_for=mailbox.user_id, pers_lastname="CrmOnly")
    db.commit()
    outlook_contact(mailbox, given_name="From", surname="Outlook", display_name="From Outlook")
    sync(mailbox)
    assert [c.surname for c in contacts(mailbox)] == ["Outlook"]
    assert len(flagged_person_ids(db, mailbox.user_id)) == 2


@pytest.mark.parametrize(
    ("policy", "winner"),
    [("crm_wins", "CRM"), ("outlook_wins", "Outlook"), ("most_recent", "Outlook")],
)
def test_conflicting_field_is_decided_by_policy_and_logged(
    db: Session, mailbox: Mailbox, policy: str, winner: str
) -> None:
    set_contacts(db, conflict_policy=policy)
    person_id = person(db, flagged_for=mailbox.user_id, pers_lastname="Both", pers_title="Base")
    db.commit()
    sync(mailbox)
    stored = db.get(Person, person_id)
    assert stored is not None
    PersonWriter(db, None, create_companies=False).update(
        stored, {"pers_title": "CRM", "pers_department": "Only CRM"}
    )
    db.commit()
    time.sleep(1.1)  # Exchange timestamps have whole seconds: make "most recent" unambiguous
    contact = only_contact(mailbox)
    contact.job_title = "Outlook"
    contact.office = "irrelevant"
    contact.save(update_fields=["job_title"])

    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS
    contact = only_contact(mailbox)
    values = load_people(db, [person_id])[person_id]
    assert contact.job_title == values["pers_title"] == winner
    # A field changed on one side only is no conflict: it simply flows.
    assert contact.department == "Only CRM"
    (conflict,) = db.scalars(select(SyncConflict)).all()
    assert conflict.field == "job_title"
    assert conflict.crm_value == {"value": "CRM"}
    assert conflict.outlook_value == {"value": "Outlook"}
    assert conflict.base_value == {"value": "Base"}
    settle(mailbox)


def test_review_holds_the_item_until_an_admin_resolves(db: Session, mailbox: Mailbox) -> None:

    set_contacts(db, conflict_policy="review")
    person_id = person(db, flagged_for=mailbox.user_id, pers_lastname="Held", pers_title="Base")
    db.commit()
    sync(mailbox)
    stored = db.get(Person, person_id)
    assert stored is not None
    PersonWriter(db, None, create_companies=False).update(stored, {"pers_title": "CRM"})
    db.commit()
    contact = only_contact(mailbox)
    contact.job_title = "Outlook"
    contact.save(update_fields=["job_title"])

    sync(mailbox)
    assert only_contact(mailbox).job_title == "Outlook"
    assert load_people(db, [person_id])[person_id]["pers_title"] == "CRM"
    (conflict,) = db.scalars(select(SyncConflict)).all()
    assert conflict.status == "open"

    conflicts_service.resolve(db, ADMIN, conflict.id, ConflictResolve(apply=ConflictSide.CRM))
    db.commit()
    sync(mailbox)
    assert only_contact(mailbox).job_title == "CRM"
    assert load_people(db, [person_id])[person_id]["pers_title"] == "CRM"
    settle(mailbox)


def test_shared_address_row_is_updated_from_outlook(db: Session, mailbox: Mailbox) -> None:
    address = Address(addr_address1="1 Shared Street", addr_city="Leeds")
    db.add(address)
    db.flush()
    synced = person(db, flagged_for=mailbox.user_id, pers_lastname="Synced")
    neighbour = person(db, pers_lastname="Neighbour")
    for person_id in (synced, neighbour):
        row = db.get(Person, person_id)
        assert row is not None
        row.pers_primaryaddressid = address.addr_addressid
        db.add(AddressLink(adli_addressid=address.addr_addressid, adli_personid=person_id))
    db.commit()
    sync(mailbox)

    contact = only_contact(mailbox)
    contact.physical_addresses = [
        PhysicalAddress(label="Business", street="1 Shared Street", city="York")
    ]
    contact.save(update_fields=["physical_addresses"])
    sync(mailbox)
    db.expire_all()
    assert db.get(Address, address.addr_addressid).addr_city == "York"  # type: ignore[union-attr]
    assert load_people(db, [neighbour])[neighbour]["address.addr_city"] == "York"


def test_invalid_sync_state_falls_back_without_duplicates(
    db: Session, mailbox: Mailbox, simulator: SimulatorServer
) -> None:
    for n in range(3):
        person(db, flagged_for=mailbox.user_id, pers_lastname=f"P{n}")
    db.commit()
    sync(mailbox)
    simulator.add_fault("invalid_sync_state", "SyncFolderItems")
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS
    assert len(contacts(mailbox)) == 3
    assert len(flagged_person_ids(db, mailbox.user_id)) == 3


def test_reset_state_relinks_everything_without_duplicates(db: Session, mailbox: Mailbox) -> None:
    for n in range(3):
        person(
            db,
            flagged_for=mailbox.user_id,
            pers_lastname=f"P{n}",
            **{"email.Business": f"p{n}@x.example.com"},
        )
    outlook_contact(mailbox, surname="Outlook", display_name="Outlook")
    db.commit()
    sync(mailbox)
    for model in (SyncLink, FolderState):
        for row in db.scalars(select(model)).all():
            db.delete(row)
    db.commit()
    settle(mailbox)
    assert len(contacts(mailbox)) == 4
    assert len(flagged_person_ids(db, mailbox.user_id)) == 4


def test_mass_deletion_guard_holds_until_confirmed(db: Session, mailbox: Mailbox) -> None:
    ids = [person(db, flagged_for=mailbox.user_id, pers_lastname=f"P{n}") for n in range(12)]
    db.commit()
    sync(mailbox)
    for person_id in ids[:8]:
        unflag_person(db, mailbox.user_id, person_id)
    db.commit()
    run = sync(mailbox)
    assert run.deletions_held
    assert len(contacts(mailbox)) == 12
    state = db.get(FolderState, (mailbox.user_id, "contacts"))
    assert state is not None
    state.deletions_confirmed = True
    db.commit()
    run = sync(mailbox)
    assert not run.deletions_held
    assert len(contacts(mailbox)) == 4


class Crash(BaseException):
    """Stands for the process dying: nothing below the runner catches it."""


def test_a_run_killed_midway_resumes_without_duplicates(
    db: Session, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.sync.links import DatabaseLinkStore

    for n in range(150):
        person(db, flagged_for=mailbox.user_id, pers_lastname=f"P{n:03d}")
    for n in range(3):
        outlook_contact(mailbox, surname=f"Outlook {n}", display_name=f"Outlook {n}")
    db.commit()
    real_commit = DatabaseLinkStore.commit
    commits = 0

    def dying_commit(self: DatabaseLinkStore) -> None:
        nonlocal commits
        commits += 1
        if commits == 2:
            # The second batch's Exchange creates are done; its links die with the process.
            raise Crash
        real_commit(self)

    monkeypatch.setattr(DatabaseLinkStore, "commit", dying_commit)
    with pytest.raises(Crash):
        sync(mailbox)
    db.rollback()
    monkeypatch.setattr(DatabaseLinkStore, "commit", real_commit)

    settle(mailbox)
    surnames = [c.surname for c in contacts(mailbox)]
    assert len(surnames) == len(set(surnames)) == 153
    assert len(flagged_person_ids(db, mailbox.user_id)) == 153
    assert len(db.scalars(select(SyncLink)).all()) == 153


def test_unknown_companies_are_created_when_the_setting_says_so(
    db: Session, mailbox: Mailbox
) -> None:
    settings_service.update_global(
        db, SettingsPatch.model_validate({"create_unknown_companies": True})
    )
    db.commit()
    outlook_contact(mailbox, surname="Hopper", display_name="Grace Hopper", company_name="Navy")
    sync(mailbox)
    (person_id,) = flagged_person_ids(db, mailbox.user_id)
    stored = db.get(Person, person_id)
    assert stored is not None and stored.pers_companyid is not None
    assert load_people(db, [person_id])[person_id]["company.comp_name"] == "Navy"


def test_a_stale_crmsync_tag_is_restamped_when_matched(db: Session, mailbox: Mailbox) -> None:
    from workers.connectors.ews.properties import TAG_FIELD

    person_id = person(
        db, flagged_for=mailbox.user_id, pers_lastname="Match", **{"email.Business": "m@x.example"}
    )
    db.commit()
    stale = outlook_contact(
        mailbox,
        surname="Match",
        display_name="Match",
        email_addresses=[EmailAddress(email="m@x.example", label="EmailAddress1")],
    )
    setattr(stale, TAG_FIELD, "999999")  # made by crmsync for a CRM item that is gone
    stale.save(update_fields=[TAG_FIELD])
    settle(mailbox)
    (contact,) = contacts(mailbox)
    assert getattr(contact, TAG_FIELD) == str(person_id)
