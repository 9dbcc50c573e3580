"""Item values as Exchange keeps them: truncation, recurrence dates, all-day items, views, zones."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from exchangelib import Account, CalendarItem, EWSTimeZone
from exchangelib.ewsdatetime import EWSDate
from exchangelib.recurrence import DailyPattern, NumberedPattern, Recurrence

from ews_simulator.items import set_property, text_value
from ews_simulator.store import Item
from ews_simulator.timezones import WINDOWS_TO_IANA, zone
from ews_simulator.xml import t

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("name", ["Subject", "GivenName", "MiddleName", "Surname"])
def test_long_names_and_subjects_are_cut_to_255_characters(name: str) -> None:
    # exchangelib refuses such values itself, so they are sent as other clients send them.
    contact = Item(id="AAMkI" + "0" * 32, kind="Contact", folder_id="")
    set_property(contact, t(name, "é" * 300))
    assert text_value(contact, name) == "é" * 255


def test_recurrence_dates_come_back_as_dates(account: Account) -> None:
    start = datetime.datetime(2024, 7, 1, 9, tzinfo=EWSTimeZone.from_timezone(BERLIN))
    item = CalendarItem(
        folder=account.calendar,
        subject="Stand-up",
        start=start,
        end=start + datetime.timedelta(minutes=15),
        recurrence=Recurrence(
            pattern=DailyPattern(interval=1),
            boundary=NumberedPattern(start=start.date(), number=3),
        ),
    ).save()
    fetched = account.calendar.get(id=item.id)
    assert fetched.recurrence.boundary.start == EWSDate(2024, 7, 1)
    assert type(fetched.recurrence.boundary.start) is EWSDate


def test_all_day_items_span_local_midnights(account: Account) -> None:
    tz = EWSTimeZone.from_timezone(BERLIN)
    item = CalendarItem(
        folder=account.calendar,
        subject="Fair",
        start=datetime.datetime(2024, 3, 4, 13, 30, tzinfo=tz),
        end=datetime.datetime(2024, 3, 6, 11, tzinfo=tz),
        is_all_day=True,
    ).save()
    fetched = account.calendar.all().only("is_all_day", "start", "end").get(id=item.id)
    assert (fetched.start, fetched.end) == (datetime.date(2024, 3, 4), datetime.date(2024, 3, 6))
    raw = account.calendar.get(id=item.id)
    assert raw.start == datetime.date(2024, 3, 4)


def test_calendar_view_keeps_an_item_ending_at_the_view_start(account: Account) -> None:
    tz = EWSTimeZone.from_timezone(BERLIN)
    first_start = datetime.datetime(2024, 1, 1, 8, tzinfo=tz)
    first = CalendarItem(
        folder=account.calendar,
        subject="first",
        start=first_start,
        end=first_start + datetime.timedelta(hours=2),
    ).save()
    second_start = datetime.datetime(2024, 2, 1, 8, tzinfo=tz)
    CalendarItem(
        folder=account.calendar,
        subject="second",
        start=second_start,
        end=second_start + datetime.timedelta(hours=2),
    ).save()
    between = account.calendar.view(start=first.end, end=second_start)
    assert [i.subject for i in between] == ["first"]


@pytest.mark.parametrize(
    ("windows_id", "iana"),
    [
        ("Mid-Atlantic Standard Time", "Etc/GMT+2"),
        ("Nepal Standard Time", "Asia/Katmandu"),
        ("Chatham Islands Standard Time", "Pacific/Chatham"),
        ("UTC", "UTC"),
    ],
)
def test_windows_zones_cover_cldr_and_exchange_extras(windows_id: str, iana: str) -> None:
    assert WINDOWS_TO_IANA[windows_id] == iana
    assert zone(windows_id) == zoneinfo.ZoneInfo(iana)


def test_every_windows_zone_exchangelib_knows_resolves() -> None:
    from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

    assert len(MS_TIMEZONE_TO_IANA_MAP) > 130
    for windows_id in MS_TIMEZONE_TO_IANA_MAP:
        assert zone(windows_id) is not None
        assert windows_id in WINDOWS_TO_IANA
