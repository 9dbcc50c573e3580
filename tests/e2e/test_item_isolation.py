"""One bad item never stops a sync: it is skipped with an error naming it, retried with
back-off, then held for an administrator (issue 16)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.config import get_settings
from app.kit.clock import utc_now
from app.models.auth import KeyKind
from app.models.sync import ItemFailure, RunEntry, RunStatus
from app.sync_control import service as sync_control
from tests.e2e.conftest import Mailbox
from tests.e2e.test_appointments_sync import calendar, soon, sync
from tests.factories.communications import appointment
from tests.factories.crm import person


def _open_errors(db: Session, user_id: int) -> list[RunEntry]:
    return list(
        db.scalars(
            select(RunEntry).where(
                RunEntry.user_id == user_id,
                RunEntry.level == "error",
                RunEntry.state == "open",
            )
        )
    )


def _make_due(db: Session, user_id: int) -> None:
    db.execute(
        update(ItemFailure)
        .where(ItemFailure.user_id == user_id)
        .values(retry_at=utc_now() - timedelta(seconds=1))
    )
    db.commit()


def test_a_poison_appointment_is_an_item_error_and_the_rest_synchronizes(
    db: Session, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "item_failure_limit", 3)
    poison = appointment(
        db,
        mailbox.user_id,
        comm_subject="Every hour",
        comm_datetime=soon(-1),
        comm_todatetime=soon(-1, 11),
        comm_recurrencerule="RRULE:FREQ=HOURLY;COUNT=5",  # Exchange has no hourly pattern
    )
    appointment(
        db,
        mailbox.user_id,
        comm_subject="Weekly review",
        comm_datetime=soon(-2),
        comm_todatetime=soon(-2, 11),
        comm_recurrencerule="RRULE:FREQ=WEEKLY;COUNT=5",  # the weekday comes from DTSTART
    )
    person(db, flagged_for=mailbox.user_id, pers_firstname="Ada", pers_lastname="Lovelace")
    db.commit()

    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS_WITH_ERRORS, run
    assert [item.subject for item in calendar(mailbox)] == ["Weekly review"]
    assert [c.surname for c in mailbox.outlook.contacts.all()] == ["Lovelace"]
    (entry,) = _open_errors(db, mailbox.user_id)
    assert (entry.entity, entry.crm_id) == ("appointments", str(poison))
    assert "HOURLY" in entry.message and "tried again" in entry.message

    # Not due yet: the next run leaves it alone and duplicates nothing.
    assert sync(mailbox).status == RunStatus.SUCCESS
    assert len(calendar(mailbox)) == 1

    # Due again, it fails again: still one open entry naming it, then held at the limit.
    for attempt in (2, 3):
        _make_due(db, mailbox.user_id)
        assert sync(mailbox).status == RunStatus.SUCCESS_WITH_ERRORS
        (entry,) = _open_errors(db, mailbox.user_id)
        failure = db.scalars(select(ItemFailure)).one()
        assert failure.attempts == attempt
    assert failure.held and "held until an administrator" in entry.message
    _make_due(db, mailbox.user_id)
    assert sync(mailbox).status == RunStatus.SUCCESS  # held: not read again
    assert len(calendar(mailbox)) == 1

    # An administrator's retry of its entry gives it one more attempt.
    admin = Principal(kind=KeyKind.ADMIN, user_id=None, key_id=0)
    sync_control.retry_entry(db, admin, entry.id)
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS_WITH_ERRORS
    assert db.scalars(select(ItemFailure)).one().attempts == 4


def test_a_repaired_item_synchronizes_on_its_retry_and_its_failure_is_forgotten(
    db: Session, mailbox: Mailbox
) -> None:
    from app.models.crm import Communication

    poison = appointment(
        db,
        mailbox.user_id,
        comm_subject="Odd rule",
        comm_datetime=soon(-1),
        comm_todatetime=soon(-1, 11),
        comm_recurrencerule="RRULE:FREQ=MONTHLY;BYMONTHDAY=2,15",
    )
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS_WITH_ERRORS
    row = db.get(Communication, poison)
    assert row is not None
    # Repaired without touching the audit columns: only the retry reads it again.
    db.execute(
        update(Communication)
        .where(Communication.comm_communicationid == poison)
        .values(comm_recurrencerule="RRULE:FREQ=MONTHLY;BYMONTHDAY=2")
    )
    _make_due(db, mailbox.user_id)
    assert sync(mailbox).status == RunStatus.SUCCESS
    assert [item.subject for item in calendar(mailbox)] == ["Odd rule"]
    assert db.scalars(select(ItemFailure)).all() == []
