"""Time as each side keeps it, and as records compare it. Pure.

* The CRM stores naive datetimes in its server's time zone; records hold aware UTC datetimes in
  whole seconds (Exchange keeps no fractions), so an instant compares equal on both sides.
* All-day items are dates, not instants: a record holds ISO dates (first day, last day
  inclusive, as exchangelib reads them). The CRM keeps an all-day item as midnight of its first
  day and midnight after its last day, unconverted: a date is the same date in every zone, and
  Exchange places it in the user's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def utc_from_crm(value: datetime | None, crm_zone: tzinfo) -> datetime | None:
    """An aware UTC instant from a naive CRM datetime (in the CRM server's zone)."""
    if value is None:
        return None
    # fold=0: an ambiguous wall time (the repeated hour of a fall-back) is its first instance.
    return whole_seconds(value.replace(tzinfo=crm_zone).astimezone(UTC))


def modified_from_crm(value: datetime | None, crm_zone: tzinfo) -> datetime:
    """When a CRM row last changed, comparable with Exchange's last-modified times.

    Exchange keeps whole seconds; compared at the coarser precision, a tie goes to the CRM.
    A row with no stamp is older than everything.
    """
    return utc_from_crm(value, crm_zone) or datetime.min.replace(tzinfo=UTC)


def crm_from_utc(value: datetime | None, crm_zone: tzinfo) -> datetime | None:
    """A naive CRM datetime from an aware instant."""
    if value is None:
        return None
    return value.astimezone(crm_zone).replace(tzinfo=None)


def whole_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def all_day_from_crm(start: datetime | None, end: datetime | None) -> tuple[str | None, str | None]:
    """First and last (inclusive) dates of a CRM all-day item."""
    if start is None:
        return None, None
    first = start.date()
    if end is None or end.date() <= first:
        return first.isoformat(), first.isoformat()
    # An end at midnight is exclusive; an end during a day (23:59, as some clients write) is not.
    last = end.date() - timedelta(days=1) if end.time() == time() else end.date()
    return first.isoformat(), max(first, last).isoformat()


def crm_from_all_day(first: str, last: str) -> tuple[datetime, datetime]:
    """Naive CRM start and (exclusive) end of an all-day item."""
    start = datetime.combine(date.fromisoformat(first), time())
    end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), time())
    return start, end


def date_in_zone(value: datetime | None, zone: tzinfo) -> str | None:
    """The ISO date an instant falls on in `zone` (a task's due or start date for its user)."""
    return None if value is None else value.astimezone(zone).date().isoformat()


def crm_from_date(value: str | None, zone: tzinfo, crm_zone: tzinfo) -> datetime | None:
    """Midnight of a user's date, as a naive CRM datetime."""
    if value is None:
        return None
    midnight = datetime.combine(date.fromisoformat(value), time(), tzinfo=zone)
    return crm_from_utc(midnight, crm_zone)


def minutes_before(start: datetime | None, reminder: datetime | None) -> int | None:
    """A reminder time as minutes before the start (Exchange's form), or None."""
    if start is None or reminder is None:
        return None
    return max(0, round((start - reminder).total_seconds() / 60))
