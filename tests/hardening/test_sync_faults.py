"""Fault injection into contact synchronization with changes waiting on both sides.

Each case breaks one run, by a fault of the simulator or by the worker dying at one step, and
then runs until a run changes nothing. Afterwards both sides hold every change and no item
twice: the created, updated and deleted contact of each side, and the untouched ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.crm.flags import flagged_person_ids, unflag_person
from app.crm.people import load_people
from app.crm.writer import PersonWriter
from app.models.crm import Person
from app.models.sync import FolderState
from ews_simulator.testing import SimulatorServer
from tests.e2e.conftest import Mailbox
from tests.e2e.test_contacts_sync import contacts, outlook_contact, settle, sync
from tests.factories.crm import person
from workers.connectors.ews.folder import FolderGateway
from workers.sync.contacts.crm import CrmContacts
from workers.sync.links import DatabaseLinkStore

# What both sides hold once the changes of both sides have gone through.
CONVERGED = {"Kept", "CrmEdited", "CrmNew", "OutlookKept", "OutlookEdited", "OutlookNew"}
CRM_TITLE = "Title from the CRM"
OUTLOOK_TITLE = "Title from Outlook"


def _changes_on_both_sides(db: Session, box: Mailbox) -> None:
    """Linked contacts, then one creation, update and deletion on each side."""
    for surname in ("Kept", "CrmEdited", "CrmDeleted"):
        person(db, flagged_for=box.user_id, pers_lastname=surname)
    for surname in ("OutlookKept", "OutlookEdited", "OutlookDeleted"):
        outlook_contact(box, surname=surname, display_name=surname)
    db.commit()
    settle(box)

    by_surname = {
        values["pers_lastname"]: person_id
        for person_id, values in load_people(db, flagged_person_ids(db, box.user_id)).items()
    }
    person(db, flagged_for=box.user_id, pers_lastname="CrmNew")
    edited = db.get(Person, by_surname["CrmEdited"])
    assert edited is not None
    PersonWriter(db, box.user_id, create_companies=False).update(edited, {"pers_title": CRM_TITLE})
    unflag_person(db, box.user_id, by_surname["CrmDeleted"])
    db.commit()
    outlook_contact(box, surname="OutlookNew", display_name="OutlookNew")
    for contact in contacts(box):
        if contact.surname == "OutlookEdited":
            contact.job_title = OUTLOOK_TITLE
            contact.save(update_fields=["job_title"])
        elif contact.surname == "OutlookDeleted":
            contact.delete()


def _assert_converged(db: Session, box: Mailbox) -> None:
    settle(box)
    outlook = {c.surname: c for c in contacts(box)}
    assert sorted(c.surname for c in contacts(box)) == sorted(CONVERGED)
    crm = load_people(db, flagged_person_ids(db, box.user_id))
    assert sorted(values["pers_lastname"] for values in crm.values()) == sorted(CONVERGED)
    titles = {values["pers_lastname"]: values["pers_title"] for values in crm.values()}
    assert titles["CrmEdited"] == CRM_TITLE == outlook["CrmEdited"].job_title
    assert titles["OutlookEdited"] == OUTLOOK_TITLE == outlook["OutlookEdited"].job_title


FAULTS = {
    "throttled": ("server_busy", "CreateItem"),
    "HTTP 503": ("http_503", "UpdateItem"),
    "dropped connection": ("drop", "DeleteItem"),
    "change-key conflict": ("irresolvable_conflict", "UpdateItem"),
    "invalid sync state": ("invalid_sync_state", "SyncFolderItems"),
}


@pytest.mark.parametrize(("kind", "operation"), list(FAULTS.values()), ids=list(FAULTS))
def test_after_a_fault_the_next_runs_converge(
    db: Session, mailbox: Mailbox, simulator: SimulatorServer, kind: str, operation: str
) -> None:
    _changes_on_both_sides(db, mailbox)
    simulator.add_fault(kind, operation, mailbox=mailbox.smtp, back_off_ms=20)
    sync(mailbox)  # succeeds, riding through the fault, or fails and leaves it to the next run
    assert not simulator.simulator.control.faults, "the fault was never met"
    _assert_converged(db, mailbox)


class Crash(BaseException):
    """Stands for the worker process dying: nothing below the runner catches it."""


def _state_advance_pending(store: DatabaseLinkStore) -> bool:
    return any(isinstance(row, FolderState) for row in store.db.dirty)


@dataclass(frozen=True)
class Step:
    owner: type
    method: str
    # Whether the worker dies once the step has taken effect, or just before.
    after: bool = True
    applies: Callable[[Any], bool] = lambda _self: True


STEPS = {
    "Exchange create": Step(FolderGateway, "create_many"),
    "Exchange update": Step(FolderGateway, "update_many"),
    "Exchange delete": Step(FolderGateway, "delete_many"),
    "CRM create": Step(CrmContacts, "create"),
    "CRM update": Step(CrmContacts, "update"),
    "CRM delete": Step(CrmContacts, "delete"),
    "link store commit": Step(DatabaseLinkStore, "commit", after=False),
    "sync-state advance": Step(
        DatabaseLinkStore, "commit", after=False, applies=_state_advance_pending
    ),
}


@pytest.mark.parametrize("step", list(STEPS.values()), ids=list(STEPS))
def test_a_worker_killed_at_any_step_resumes_without_duplicates_or_losses(
    db: Session, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, step: Step
) -> None:
    _changes_on_both_sides(db, mailbox)
    real = getattr(step.owner, step.method)

    def dying(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not step.applies(self):
            return real(self, *args, **kwargs)
        if not step.after:
            raise Crash
        real(self, *args, **kwargs)
        raise Crash

    monkeypatch.setattr(step.owner, step.method, dying)
    with pytest.raises(Crash):
        sync(mailbox)
    monkeypatch.setattr(step.owner, step.method, real)
    db.rollback()
    _assert_converged(db, mailbox)
