"""`patternedRecurrence` expanded into occurrence starts, and `dateTimeTimeZone` values.

Patterns map onto dateutil's rrule (RFC 5545) the way Exchange's do: relative patterns are
BYDAY with BYSETPOS (index first…fourth = 1…4, last = -1), weekly ones count weeks from
`firstDayOfWeek`. Time zones may be Windows names (as Outlook writes them), IANA names or UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule
from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

from graph_simulator.odata import bad_request

DAYS = {
    "sunday": rrule.SU,
    "monday": rrule.MO,
    "tuesday": rrule.TU,
    "wednesday": rrule.WE,
    "thursday": rrule.TH,
    "friday": rrule.FR,
    "saturday": rrule.SA,
}
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
FREQUENCY: dict[str, Literal[0, 1, 2, 3, 4, 5, 6]] = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "absoluteMonthly": rrule.MONTHLY,
    "relativeMonthly": rrule.MONTHLY,
    "absoluteYearly": rrule.YEARLY,
    "relativeYearly": rrule.YEARLY,
}
GRAPH_FORMAT = "%Y-%m-%dT%H:%M:%S.0000000"


def zone(name: str | None) -> tzinfo:
    if not name or name.upper() in ("UTC", "Z"):
        return UTC
    iana = MS_TIMEZONE_TO_IANA_MAP.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise bad_request(f"The time zone {name!r} is not known.") from e


def parse_moment(value: Any, where: str) -> datetime:
    """An aware datetime from a dateTimeTimeZone object."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise bad_request(f"{where} must be a dateTimeTimeZone with a dateTime.")
    text = value["dateTime"].rstrip("Z")
    head, _, fraction = text.partition(".")
    try:
        naive = datetime.fromisoformat(head)
    except ValueError as e:
        raise bad_request(f"{where}.dateTime {value['dateTime']!r} is not a date-time.") from e
    if fraction and not fraction.isdigit():
        raise bad_request(f"{where}.dateTime {value['dateTime']!r} is not a date-time.")
    return naive.replace(tzinfo=zone(value.get("timeZone")))


def render_moment(moment: datetime, zone_name: str, floating: bool) -> dict[str, str]:
    """A dateTimeTimeZone in the requested zone; all-day (floating) times keep their wall time."""
    shown = moment if floating else moment.astimezone(zone(zone_name))
    return {"dateTime": shown.strftime(GRAPH_FORMAT), "timeZone": zone_name}


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as e:
        raise bad_request(f"{where} {value!r} is not a date.") from e


def rule(recurrence: dict[str, Any], first: datetime) -> rrule.rrule:
    """The rrule of a series whose first occurrence (in the series' zone) starts at `first`."""
    pattern = recurrence.get("pattern") or {}
    span = recurrence.get("range") or {}
    kind = pattern.get("type")
    if kind not in FREQUENCY:
        raise bad_request(f"recurrence.pattern.type {kind!r} is not one of {sorted(FREQUENCY)}.")
    interval = pattern.get("interval", 1)
    if not isinstance(interval, int) or interval < 1:
        raise bad_request("recurrence.pattern.interval must be a positive integer.")
    options: dict[str, Any] = {"interval": interval}
    days = [DAYS.get(str(d).lower()) for d in pattern.get("daysOfWeek") or []]
    if None in days:
        raise bad_request(f"recurrence.pattern.daysOfWeek {pattern.get('daysOfWeek')} is invalid.")
    if kind == "weekly":
        options["byweekday"] = days or [DAYS[first.strftime("%A").lower()]]
        options["wkst"] = DAYS.get(str(pattern.get("firstDayOfWeek", "sunday")).lower(), rrule.SU)
    if kind in ("absoluteMonthly", "absoluteYearly"):
        options["bymonthday"] = pattern.get("dayOfMonth") or first.day
    if kind in ("relativeMonthly", "relativeYearly"):
        if not days:
            raise bad_request(f"A {kind} pattern needs daysOfWeek.")
        options["byweekday"] = days
        options["bysetpos"] = INDEX.get(str(pattern.get("index", "first")), 1)
    if kind.endswith("Yearly"):
        options["bymonth"] = pattern.get("month") or first.month
    start_date = _date(
        span.get("startDate", first.date().isoformat()), "recurrence.range.startDate"
    )
    dtstart = datetime.combine(start_date, first.timetz())
    span_type = span.get("type", "noEnd")
    if span_type == "endDate":
        end_date = _date(span.get("endDate"), "recurrence.range.endDate")
        options["until"] = datetime.combine(end_date, time(23, 59, 59), first.tzinfo)
    elif span_type == "numbered":
        count = span.get("numberOfOccurrences")
        if not isinstance(count, int) or count < 1:
            raise bad_request("recurrence.range.numberOfOccurrences must be a positive integer.")
        options["count"] = count
    elif span_type != "noEnd":
        raise bad_request(f"recurrence.range.type {span_type!r} is invalid.")
    return rrule.rrule(FREQUENCY[kind], dtstart=dtstart, **options)


def starts_between(
    recurrence: dict[str, Any], first: datetime, window_start: datetime, window_end: datetime
) -> Iterator[datetime]:
    """Occurrence starts (aware, in the series' zone) from `window_start` to `window_end`."""
    for start in rule(recurrence, first):
        if start >= window_end:
            return
        if start >= window_start:
            yield start
