"""Events: single instances and series masters, their occurrences and exceptions; calendarView.

A series master stores its pattern; occurrences are computed for the requested window, each
with an id made of the master's id and its original start. Changing an occurrence makes it an
exception (stored on the master by original start), deleting it cancels it. Times are shown in
UTC unless `Prefer: outlook.timezone` names another zone. `calendarView/delta` lists the
instances in its window (singles, occurrences, exceptions), never masters.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from graph_simulator import items
from graph_simulator.delta import Current
from graph_simulator.odata import Response, Shape, bad_request, not_found
from graph_simulator.recurrence import parse_moment, render_moment, rule, starts_between
from graph_simulator.routes import Call, route
from graph_simulator.store import Item, Mailbox

OCCURRENCE_MARK = "_occ_"
STAMP = "%Y%m%dT%H%M%SZ"


def _series_span(item: Item) -> tuple[datetime, datetime]:
    start = parse_moment(item.data.get("start"), "start")
    end = parse_moment(item.data.get("end"), "end")
    return start, end


def _render(call: Call, item: Item, **overrides: Any) -> dict[str, Any]:
    """An event as Graph shows it, times in the Prefer zone (UTC by default)."""
    shown_zone = call.request.prefer().get("outlook.timezone") or "UTC"
    rendered = items.outlook_item(item, None, "event")
    rendered.update(
        {
            "type": "seriesMaster" if item.data.get("recurrence") else "singleInstance",
            "isAllDay": False,
            "isCancelled": False,
            "sensitivity": "normal",
            "showAs": "busy",
            "importance": "normal",
            "attendees": [],
            "originalStartTimeZone": item.data["start"].get("timeZone", "UTC"),
            "originalEndTimeZone": item.data["end"].get("timeZone", "UTC"),
            "iCalUId": f"uid-{item.id}",
            **item.data,
            **overrides,
        }
    )
    floating = bool(rendered["isAllDay"])
    for key in ("start", "end"):
        rendered[key] = render_moment(parse_moment(rendered[key], key), shown_zone, floating)
    return rendered


def _occurrence(call: Call, master: Item, start: datetime) -> dict[str, Any] | None:
    original = start.astimezone(UTC).strftime(STAMP)
    if original in master.cancelled:
        return None
    first_start, first_end = _series_span(master)
    base = {
        "id": f"{master.id}{OCCURRENCE_MARK}{original}",
        "type": "occurrence",
        "seriesMasterId": master.id,
        "originalStart": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "recurrence": None,
        "start": render_moment(start, "UTC", False),
        "end": render_moment(start + (first_end - first_start), "UTC", False),
    }
    exception = master.overrides.get(original)
    if exception is not None:
        base.update({**exception, "type": "exception"})
    return _render(call, master, **base)


def _instances(call: Call, master: Item, window: tuple[datetime, datetime]) -> list[dict[str, Any]]:
    first_start, first_end = _series_span(master)
    duration = first_end - first_start
    found = []
    for start in starts_between(
        master.data["recurrence"], first_start, window[0] - duration, window[1]
    ):
        shown = _occurrence(call, master, start)
        if shown is not None:
            found.append(shown)
    return found


def _window(query: dict[str, str]) -> tuple[datetime, datetime]:
    try:
        start = datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
    except KeyError as e:
        raise bad_request(f"This request requires the {e.args[0]} query parameter.") from e
    except ValueError as e:
        raise bad_request(f"startDateTime/endDateTime are not date-times: {e}") from e
    start, end = (v if v.tzinfo else v.replace(tzinfo=UTC) for v in (start, end))
    if end <= start:
        raise bad_request("endDateTime must be after startDateTime.")
    return start, end


def calendar_view(call: Call, query: dict[str, str]) -> list[dict[str, Any]]:
    window = _window(query)
    shown: list[dict[str, Any]] = []
    for item in call.mailbox.calendar.items.values():
        if item.data.get("recurrence"):
            shown.extend(_instances(call, item, window))
            continue
        start, end = _series_span(item)
        if start < window[1] and end > window[0]:
            shown.append(_render(call, item))
    return shown


def _validated(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    for key in ("start", "end"):
        if key in body or not partial:
            parse_moment(body.get(key), key)
    if (
        "start" in body
        and "end" in body
        and parse_moment(body["end"], "end") < parse_moment(body["start"], "start")
    ):
        raise bad_request("The event's end is before its start.")
    if body.get("recurrence"):
        if "start" not in body:
            raise bad_request("A recurrence is set together with the series' start.")
        rule(body["recurrence"], parse_moment(body["start"], "start"))
    return body


def _split(call: Call) -> tuple[Item, str | None]:
    event_id = call.params["id"]
    master_id, mark, original = event_id.partition(OCCURRENCE_MARK)
    item = items.get(call.mailbox.calendar, master_id if mark else event_id)
    return item, (original if mark else None)


@route("GET", "/events", "events.list")
@route("GET", "/calendar/events", "events.list")
def list_events(call: Call) -> Response:
    rendered = [_render(call, i) for i in call.mailbox.calendar.items.values()]
    return items.list_page(call.request, rendered)


@route("POST", "/events", "events.create")
@route("POST", "/calendar/events", "events.create")
def create_event(call: Call) -> Response:
    body = _validated(call.request.json(), partial=False)
    item = items.create(call.mailbox, call.mailbox.calendar, body, "event")
    return Response(201, Shape().present(_render(call, item)))


@route("GET", "/calendarView", "events.calendarView")
def get_calendar_view(call: Call) -> Response:
    return items.list_page(call.request, calendar_view(call, call.request.query))


@route("GET", "/calendarView/delta", "events.calendarView.delta")
def calendar_view_delta(call: Call) -> Response:
    def collect(options: dict[str, str]) -> Current:
        shape = Shape.of(options)
        return {
            shown["id"]: (shown["changeKey"], shape.present(shown))
            for shown in calendar_view(call, options)
        }

    return call.deltas.serve(
        call.request, call.scope("calendarView"), call.store.generation, collect, 50
    )


@route("GET", "/events/{id}/instances", "events.instances")
def list_instances(call: Call) -> Response:
    item, original = _split(call)
    if original is not None or not item.data.get("recurrence"):
        raise bad_request("instances are listed for series masters only.")
    shown = _instances(call, item, _window(call.request.query))
    return items.list_page(call.request, shown)


@route("GET", "/events/{id}", "events.get")
def get_event(call: Call) -> Response:
    item, original = _split(call)
    shape = Shape.of(call.request.query)
    if original is None:
        return Response(200, shape.present(_render(call, item)))
    at = datetime.strptime(original, STAMP).replace(tzinfo=UTC)
    shown = _occurrence(call, item, at.astimezone(_series_span(item)[0].tzinfo))
    if shown is None:
        raise not_found(call.params["id"])
    return Response(200, shape.present(shown))


@route("PATCH", "/events/{id}", "events.update")
def update_event(call: Call) -> Response:
    item, original = _split(call)
    body = _validated(call.request.json(), partial=True)
    if original is None:
        if "recurrence" in body or "start" in body:
            # A new pattern or first start discards exceptions, as Outlook warns it will.
            item.overrides.clear()
            item.cancelled.clear()
        items.apply(call.mailbox, item, body)
        return Response(200, Shape().present(_render(call, item)))
    if original in item.cancelled:
        raise not_found(call.params["id"])
    if "recurrence" in body:
        raise bad_request("An occurrence cannot carry a recurrence.")
    item.overrides.setdefault(original, {}).update(items.writable(body))
    call.mailbox.touch(item)
    return get_event(call)


@route("DELETE", "/events/{id}", "events.delete")
def delete_event(call: Call) -> Response:
    item, original = _split(call)
    if original is None:
        del call.mailbox.calendar.items[item.id]
    else:
        item.overrides.pop(original, None)
        item.cancelled.add(original)
        call.mailbox.touch(item)
    return Response(204)


def seed_events(
    mailbox: Mailbox, rng: random.Random, singles: int, recurring: int
) -> dict[str, int]:
    base = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    for n in range(singles + recurring):
        start = base + timedelta(days=rng.randint(-20, 40), hours=rng.randint(0, 8))
        data: dict[str, Any] = {
            "subject": f"Meeting {n}",
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {
                "dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
        }
        if n >= singles:
            data["recurrence"] = {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [start.strftime("%A")]},
                "range": {
                    "type": "numbered",
                    "startDate": start.date().isoformat(),
                    "numberOfOccurrences": 10,
                },
            }
        mailbox.add(mailbox.calendar, data, "event")
    return {"appointments": singles, "recurring": recurring}
