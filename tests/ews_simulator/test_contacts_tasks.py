"""Contacts and tasks through exchangelib, modelled on exchangelib's own item tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from exchangelib import Account, Contact, EWSDateTime, ExtendedProperty, Q, Task
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress

from ews_simulator.testing import SimulatorServer


class CrmTag(ExtendedProperty):
    property_set_id = "c11ff724-aa03-4555-9952-8fa248a11c3e"
    property_name = "CrmId"
    property_type = "String"


Contact.register("crm_id", CrmTag)
Task.register("crm_id", CrmTag)


def new_contact(account: Account, n: int = 1, **extra: object) -> Contact:
    return Contact(
        folder=account.contacts,
        display_name=f"Ann Lee {n}",
        given_name="Ann",
        middle_name="B",
        surname=f"Lee{n}",
        generation="Jr.",
        job_title="Buyer",
        department="Purchasing",
        company_name="Acme",
        business_homepage="https://acme.example",
        email_addresses=[EmailAddress(label="EmailAddress1", email=f"ann{n}@acme.example")],
        phone_numbers=[
            PhoneNumber(label="BusinessPhone", phone_number="+49 30 1"),
            PhoneNumber(label="MobilePhone", phone_number="+49 170 2"),
        ],
        physical_addresses=[PhysicalAddress(label="Business", street="Main 1", city="Berlin")],
        **extra,
    )


def test_contact_round_trip(account: Account) -> None:
    contact = new_contact(account, crm_id="crm-1")
    contact.save()
    fetched = account.contacts.get(id=contact.id)
    assert fetched.given_name == "Ann"
    assert fetched.surname == "Lee1"
    assert fetched.generation == "Jr."
    assert fetched.business_homepage == "https://acme.example"
    assert fetched.email_addresses == [
        EmailAddress(label="EmailAddress1", email="ann1@acme.example")
    ]
    assert {p.label: p.phone_number for p in fetched.phone_numbers} == {
        "BusinessPhone": "+49 30 1",
        "MobilePhone": "+49 170 2",
    }
    (address,) = fetched.physical_addresses
    assert (address.label, address.street, address.city) == ("Business", "Main 1", "Berlin")
    assert fetched.crm_id == "crm-1"
    assert fetched.last_modified_time is not None
    assert fetched.changekey == contact.changekey


def test_indexed_field_updates_change_the_changekey(account: Account) -> None:
    contact = new_contact(account)
    contact.save()
    old_key = contact.changekey
    contact.email_addresses = [
        EmailAddress(label="EmailAddress1", email="new@acme.example"),
        EmailAddress(label="EmailAddress2", email="second@acme.example"),
    ]
    contact.physical_addresses = [PhysicalAddress(label="Home", street="Side 2", city="Bonn")]
    contact.phone_numbers = [PhoneNumber(label="HomePhone", phone_number="123")]
    contact.job_title = None
    contact.save(
        update_fields=["email_addresses", "physical_addresses", "phone_numbers", "job_title"]
    )
    assert contact.changekey != old_key
    fetched = account.contacts.get(id=contact.id)
    assert {e.label: e.email for e in fetched.email_addresses} == {
        "EmailAddress1": "new@acme.example",
        "EmailAddress2": "second@acme.example",
    }
    assert [(a.label, a.city) for a in fetched.physical_addresses] == [("Home", "Bonn")]
    assert [(p.label, p.phone_number) for p in fetched.phone_numbers] == [("HomePhone", "123")]
    assert fetched.job_title is None


def test_find_by_extended_property_and_restrictions(account: Account) -> None:
    for n in range(5):
        new_contact(account, n, crm_id=f"crm-{n}").save()
    found = list(account.contacts.filter(crm_id="crm-3").only("surname", "crm_id"))
    assert [(c.surname, c.crm_id) for c in found] == [("Lee3", "crm-3")]
    assert account.contacts.filter(surname__in=["Lee1", "Lee2"]).count() == 2
    assert account.contacts.filter(~Q(surname="Lee1")).count() == 4
    assert account.contacts.filter(surname__contains="ee4").count() == 1
    assert account.contacts.filter(surname__istartswith="lee").count() == 5
    assert account.contacts.filter(crm_id__exists=True).count() == 5
    surnames = [c.surname for c in account.contacts.all().order_by("-surname").only("surname")]
    assert surnames == ["Lee4", "Lee3", "Lee2", "Lee1", "Lee0"]


def test_only_returns_requested_fields(account: Account) -> None:
    new_contact(account).save()
    (contact,) = account.contacts.all().only("surname")
    assert contact.surname == "Lee1"
    assert contact.given_name is None
    assert contact.mime_content is None


def test_task_status_and_completion(account: Account) -> None:
    due = EWSDateTime(2025, 3, 1, 12, tzinfo=account.default_timezone)
    task = Task(
        folder=account.tasks,
        subject="Call back",
        status="InProgress",
        percent_complete=Decimal(30),
        start_date=due.date(),
        due_date=due.date(),
        importance="High",
        crm_id="t-1",
    )
    task.save()
    fetched = account.tasks.get(id=task.id)
    assert (fetched.status, fetched.percent_complete, fetched.importance) == (
        "InProgress",
        30,
        "High",
    )
    assert fetched.due_date == due.date()
    assert fetched.is_complete is False
    fetched.status = "Completed"
    fetched.percent_complete = Decimal(100)
    fetched.save(update_fields=["status", "percent_complete"])
    done = account.tasks.get(id=task.id)
    assert done.status == "Completed"
    assert done.is_complete is True
    assert done.complete_date is not None


def test_bulk_create_fetch_delete(account: Account, sim: SimulatorServer) -> None:
    contacts = [new_contact(account, n) for n in range(30)]
    ids = account.bulk_create(folder=account.contacts, items=contacts)
    fetched = list(account.fetch(ids=ids, only_fields=["surname"]))
    assert sorted(c.surname for c in fetched) == sorted(f"Lee{n}" for n in range(30))
    account.bulk_delete(ids=ids[:10])
    assert account.contacts.all().count() == 20
    account.bulk_delete(ids=ids[10:20], delete_type="MoveToDeletedItems")
    assert account.contacts.all().count() == 10
    assert account.trash.all().count() == 10
    assert sim.stats()["mailboxes"]["owner@example.com"]["items"] == 20


def test_move_and_copy(account: Account) -> None:
    contact = new_contact(account)
    contact.save()
    folder = account.contacts.__class__(parent=account.contacts, name="CRM")
    folder.save()
    contact.copy(to_folder=folder)
    contact.move(to_folder=folder)
    assert account.contacts.all().count() == 0
    assert folder.all().count() == 2


def test_auto_resolve_refuses_only_a_real_conflict(account: Account) -> None:
    """A stale change key fails under AutoResolve only when the update sets a property that
    changed since; NeverOverwrite refuses any stale key; AlwaysOverwrite none."""
    from exchangelib.errors import ErrorIrresolvableConflict
    from exchangelib.items import ALWAYS_OVERWRITE, AUTO_RESOLVE, NEVER_OVERWRITE

    contact = Contact(account=account, folder=account.contacts, display_name="A", surname="A")
    contact.save()
    stale = contact.changekey
    fresh = account.contacts.get(id=contact.id)
    fresh.job_title = "Changed elsewhere"
    fresh.save(update_fields=["job_title"])

    def update(field: str, value: str, resolution: str) -> None:
        item = Contact(id=contact.id, changekey=stale)
        setattr(item, field, value)
        account.bulk_update([(item, [field])], conflict_resolution=resolution)

    update("department", "Sales", AUTO_RESOLVE)
    # exchangelib raises this error rather than returning it per item.
    with pytest.raises(ErrorIrresolvableConflict):
        update("job_title", "Mine", AUTO_RESOLVE)
    with pytest.raises(ErrorIrresolvableConflict):
        update("office", "B2", NEVER_OVERWRITE)
    update("job_title", "Mine", ALWAYS_OVERWRITE)
    final = account.contacts.get(id=contact.id)
    assert (final.job_title, final.department) == ("Mine", "Sales")
