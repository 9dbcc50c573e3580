"""Calendar items: views, recurrence, occurrences and exceptions, all-day items, time zones."""

from __future__ import annotations

import datetime

from exchangelib import Account, Attendee, CalendarItem, EWSDate, EWSDateTime, EWSTimeZone, Mailbox
from exchangelib.fields import MONDAY, WEDNESDAY
from exchangelib.recurrence import (
    AbsoluteMonthlyPattern,
    DailyPattern,
    Recurrence,
    RelativeYearlyPattern,
    WeeklyPattern,
)

BERLIN = EWSTimeZone("Europe/Berlin")


def at(day: int, hour: int, month: int = 3) -> EWSDateTime:
    return EWSDateTime(2025, month, day, hour, tzinfo=BERLIN)


def weekly_series(account: Account, count: int = 6) -> CalendarItem:
    item = CalendarItem(
        folder=account.calendar,
        subject="Weekly sync",
        start=at(3, 10),
        end=at(3, 11),
        recurrence=Recurrence(
            pattern=WeeklyPattern(interval=1, weekdays=[MONDAY, WEDNESDAY]),
            start=EWSDate(2025, 3, 3),
            number=count,
        ),
        required_attendees=[
            Attendee(mailbox=Mailbox(email_address="bob@example.com"), response_type="Accept")
        ],
    )
    item.save(send_meeting_invitations="SendToNone")
    return item


def test_single_item_round_trip_keeps_time_zone(account: Account) -> None:
    item = CalendarItem(
        folder=account.calendar,
        subject="Lunch",
        body="Bring slides",
        location="Cafe",
        start=at(10, 12),
        end=at(10, 13),
        reminder_is_set=True,
        reminder_minutes_before_start=15,
        sensitivity="Private",
        importance="High",
    )
    item.save()
    fetched = account.calendar.get(id=item.id)
    assert fetched.start == at(10, 12)
    assert fetched.end == at(10, 13)
    assert fetched._start_timezone == BERLIN
    assert (fetched.subject, fetched.location, fetched.body) == ("Lunch", "Cafe", "Bring slides")
    assert (fetched.reminder_is_set, fetched.reminder_minutes_before_start) == (True, 15)
    assert (fetched.sensitivity, fetched.importance) == ("Private", "High")
    assert fetched.type == "Single"
    assert fetched.organizer.email_address == "owner@example.com"


def test_all_day_item(account: Account) -> None:
    item = CalendarItem(
        folder=account.calendar,
        subject="Holiday",
        start=EWSDate(2025, 5, 1),
        end=EWSDate(2025, 5, 2),
        is_all_day=True,
    )
    item.save()
    fetched = account.calendar.get(id=item.id)
    assert fetched.is_all_day is True
    assert fetched.start == EWSDate(2025, 5, 1)
    assert fetched.end == EWSDate(2025, 5, 2)


def test_calendar_view_expands_recurrence(account: Account) -> None:
    master = weekly_series(account)
    CalendarItem(folder=account.calendar, subject="One-off", start=at(4, 9), end=at(4, 10)).save()
    view = list(account.calendar.view(start=at(1, 0), end=at(31, 0)))
    assert [(i.subject, i.type) for i in view][:3] == [
        ("Weekly sync", "Occurrence"),
        ("One-off", "Single"),
        ("Weekly sync", "Occurrence"),
    ]
    occurrences = [i for i in view if i.type == "Occurrence"]
    assert [o.start for o in occurrences] == [at(d, 10) for d in (3, 5, 10, 12, 17, 19)]
    # Daylight saving starts on 30 March; the wall-clock time must survive it.
    later = list(account.calendar.view(start=at(30, 0), end=at(15, 0, month=4)))
    assert later == []
    fetched = account.calendar.get(id=master.id)
    assert fetched.type == "RecurringMaster"
    assert fetched.recurrence.pattern.weekdays == [1, 3]
    assert fetched.recurrence.boundary.number == 6
    assert fetched.first_occurrence.start == at(3, 10)
    assert fetched.last_occurrence.start == at(19, 10)


def test_daylight_saving_keeps_wall_clock(account: Account) -> None:
    CalendarItem(
        folder=account.calendar,
        subject="Daily",
        start=at(28, 9),
        end=at(28, 10),
        recurrence=Recurrence(
            pattern=DailyPattern(interval=1), start=EWSDate(2025, 3, 28), number=5
        ),
    ).save()
    starts = [
        i.start.astimezone(BERLIN) for i in account.calendar.view(start=at(27, 0), end=at(5, 0, 4))
    ]
    assert [(s.day, s.hour) for s in starts] == [(28, 9), (29, 9), (30, 9), (31, 9), (1, 9)]


def test_modify_and_delete_occurrences(account: Account) -> None:
    master = weekly_series(account)
    second = master.occurrence(index=2)
    second.refresh()
    second.subject = "Moved sync"
    second.start = at(6, 14)
    second.end = at(6, 15)
    second.save(update_fields=["subject", "start", "end"])
    master.occurrence(index=3).delete()
    fetched = account.calendar.get(id=master.id)
    assert [o.start for o in fetched.modified_occurrences] == [at(6, 14)]
    assert [o.original_start for o in fetched.modified_occurrences] == [at(5, 10)]
    assert [d.start for d in fetched.deleted_occurrences] == [at(10, 10)]
    view = list(account.calendar.view(start=at(1, 0), end=at(31, 0)))
    assert [(i.subject, i.type, i.start) for i in view][:3] == [
        ("Weekly sync", "Occurrence", at(3, 10)),
        ("Moved sync", "Exception", at(6, 14)),
        ("Weekly sync", "Occurrence", at(12, 10)),
    ]
    exception = account.calendar.get(id=view[1].id)
    recurring_master = exception.recurring_master().refresh()
    assert recurring_master.id == master.id


def test_other_patterns(account: Account) -> None:
    monthly = CalendarItem(
        folder=account.calendar,
        subject="Monthly",
        start=at(31, 8, month=1),
        end=at(31, 9, month=1),
        recurrence=Recurrence(
            pattern=AbsoluteMonthlyPattern(interval=1, day_of_month=31),
            start=EWSDate(2025, 1, 31),
            number=3,
        ),
    )
    monthly.save()
    yearly = CalendarItem(
        folder=account.calendar,
        subject="Yearly",
        start=at(1, 8, month=6) + datetime.timedelta(days=1),
        end=at(1, 9, month=6) + datetime.timedelta(days=1),
        recurrence=Recurrence(
            pattern=RelativeYearlyPattern(weekday=1, week_number=1, month=6),
            start=EWSDate(2025, 6, 2),
            end=EWSDate(2027, 12, 31),
        ),
    )
    yearly.save()
    view = list(
        account.calendar.view(start=at(1, 0, month=1), end=EWSDateTime(2028, 1, 1, tzinfo=BERLIN))
    )
    monthly_days = [
        (i.start.astimezone(BERLIN).month, i.start.astimezone(BERLIN).day)
        for i in view
        if i.subject == "Monthly"
    ]
    assert monthly_days == [(1, 31), (2, 28), (3, 31)]
    yearly_days = [i.start.astimezone(BERLIN).date() for i in view if i.subject == "Yearly"]
    assert yearly_days == [
        datetime.date(2025, 6, 2),
        datetime.date(2026, 6, 1),
        datetime.date(2027, 6, 7),
    ]


def test_update_master_recurrence(account: Account) -> None:
    master = weekly_series(account)
    master.recurrence = Recurrence(
        pattern=DailyPattern(interval=2), start=EWSDate(2025, 3, 3), number=3
    )
    master.save(update_fields=["recurrence"])
    starts = [i.start for i in account.calendar.view(start=at(1, 0), end=at(31, 0))]
    assert starts == [at(3, 10), at(5, 10), at(7, 10)]
