"""Appointment sync end to end: PostgreSQL, the engine, exchangelib and the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
from sqlalchemy.orm import Session

from app.models.crm import Communication
from app.models.sync import RunEntry, RunStatus
from tests.e2e.conftest import Mailbox
from tests.factories.communications import appointment
from workers.sync.runner import RunRequest, run_user_sync

LONDON = EWSTimeZone("Europe/London")


def sync(box: Mailbox) -> Any:
    run = run_user_sync(RunRequest(user_id=box.user_id, trigger="test"))
    box.db.expire_all()
    if run.status != RunStatus.SUCCESS:
        errors = box.db.query(RunEntry).filter(RunEntry.run_id == run.run_id).all()
        print([e.message for e in errors if e.level == "error"])  # shown with a failing assertion
    return run


def counts(run: Any) -> dict[str, dict[str, int]]:
    return dict(run.counts.get("appointments", {}))


def calendar(box: Mailbox) -> list[CalendarItem]:
    return list(box.outlook.calendar.all())


def soon(days: int = 0, hour: int = 10) -> datetime:
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None)
    return today + timedelta(days=days)


def test_a_crm_appointment_reaches_outlook_and_back_unchanged(
    db: Session, mailbox: Mailbox
) -> None:
    comm_id = appointment(
        db,
        mailbox.user_id,
        comm_subject="Board review",
        comm_location="Room 1",
        comm_datetime=soon(-1),
        comm_todatetime=soon(-1, 11),
        comm_note="Bring the figures",
    )
    db.commit()
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS, run
    (item,) = calendar(mailbox)
    assert (item.subject, item.location) == ("Board review", "Room 1")
    assert item.start == EWSDateTime.from_datetime(soon(-1).replace(tzinfo=UTC))
    assert "Bring the figures" in str(item.body)
    again = sync(mailbox)
    assert counts(again) == {}, again.counts
    row = db.get(Communication, comm_id)
    assert row is not None and row.comm_note == "Bring the figures"


def test_a_crm_series_with_an_exception_and_a_deletion_reaches_outlook(
    db: Session, mailbox: Mailbox
) -> None:
    start = soon(-7)
    master = appointment(
        db,
        mailbox.user_id,
        comm_subject="Stand-up",
        comm_datetime=start,
        comm_todatetime=start + timedelta(minutes=15),
        comm_recurrencerule=(
            "RRULE:FREQ=DAILY;INTERVAL=1;COUNT=5\n"
            f"EXDATE:{(start + timedelta(days=2)):%Y%m%dT%H%M%S}Z"
        ),
    )
    moved = start + timedelta(days=1, hours=2)
    appointment(
        db,
        None,
        comm_subject="Stand-up (moved)",
        comm_datetime=moved,
        comm_todatetime=moved + timedelta(minutes=15),
        comm_recurrenceid=master,
        comm_exception="Y",
        comm_originaldatetime=start + timedelta(days=1),
    )
    db.commit()
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS, run
    (item,) = [i for i in calendar(mailbox) if i.type == "RecurringMaster"]
    assert len(item.deleted_occurrences or ()) == 1
    (modified,) = item.modified_occurrences
    assert modified.start == EWSDateTime.from_datetime(moved.replace(tzinfo=UTC))
    assert counts(sync(mailbox)) == {}


def test_an_outlook_series_edited_in_outlook_reaches_the_crm(db: Session, mailbox: Mailbox) -> None:
    start = EWSDateTime(2024, 3, 25, 9, 0, tzinfo=LONDON)  # the week London springs forward
    from exchangelib.recurrence import Recurrence, WeeklyPattern

    item = CalendarItem(
        account=mailbox.outlook,
        folder=mailbox.outlook.calendar,
        subject="Weekly sync",
        start=start,
        end=start + timedelta(hours=1),
        recurrence=Recurrence(
            pattern=WeeklyPattern(interval=1, weekdays=[1]), start=start.date(), number=6
        ),
    )
    item.save()
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS, run
    (row,) = db.query(Communication).filter(Communication.comm_subject == "Weekly sync").all()
    assert row.comm_recurrencerule == "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=6"
    assert row.comm_datetime == datetime(2024, 3, 25, 9, 0)  # CRM zone UTC: 09:00 GMT
    master = mailbox.outlook.calendar.get(id=item.id)
    second = master.occurrence(2)
    second.refresh()
    assert second.start.astimezone(LONDON).hour == 9  # 08:00 UTC after the change
    second.subject = "Weekly sync (special)"
    second.save(update_fields=["subject"])
    master.occurrence(3).delete()
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS, run
    db.expire_all()
    row = db.get(Communication, row.comm_communicationid)
    assert row is not None and "EXDATE:20240408T080000Z" in (row.comm_recurrencerule or "")
    (exception,) = (
        db.query(Communication).filter(Communication.comm_recurrenceid == row.comm_communicationid)
    ).all()
    assert exception.comm_subject == "Weekly sync (special)"
    assert exception.comm_originaldatetime == datetime(2024, 4, 1, 8, 0)
    assert counts(sync(mailbox)) == {}
