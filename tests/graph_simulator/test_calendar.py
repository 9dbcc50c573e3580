"""Events: series masters, occurrences and exceptions, time zones, calendarView and its delta."""

from __future__ import annotations

from typing import Any

from tests.graph_simulator.conftest import Graph

WINDOW = {"startDateTime": "2026-12-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}


def _weekly(count: int) -> dict[str, Any]:
    return {
        "subject": "Weekly review",
        "start": {"dateTime": "2026-12-07T09:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-12-07T10:00:00", "timeZone": "W. Europe Standard Time"},
        "sensitivity": "private",
        "attendees": [
            {"emailAddress": {"address": "ada@example.org", "name": "Ada"}, "type": "required"}
        ],
        "recurrence": {
            "pattern": {
                "type": "weekly",
                "interval": 1,
                "daysOfWeek": ["monday"],
                "firstDayOfWeek": "monday",
            },
            "range": {"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": count},
        },
    }


def test_series_occurrences_and_exceptions(graph: Graph) -> None:
    master = graph.request("POST", "/events", "event", json=_weekly(4)).json()
    assert master["type"] == "seriesMaster"
    assert master["start"] == {"dateTime": "2026-12-07T08:00:00.0000000", "timeZone": "UTC"}
    instances = graph.request(
        "GET", f"/events/{master['id']}/instances", "event", params=WINDOW
    ).json()["value"]
    assert [i["originalStart"] for i in instances] == [
        "2026-12-07T08:00:00Z",
        "2026-12-14T08:00:00Z",
        "2026-12-21T08:00:00Z",
        "2026-12-28T08:00:00Z",
    ]
    moved = graph.request(
        "PATCH",
        f"/events/{instances[1]['id']}",
        "event",
        json={
            "start": {"dateTime": "2026-12-15T14:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-15T15:00:00", "timeZone": "UTC"},
        },
    ).json()
    assert (moved["type"], moved["seriesMasterId"]) == ("exception", master["id"])
    assert graph.request("DELETE", f"/events/{instances[2]['id']}").status_code == 204
    view = graph.request(
        "GET",
        "/calendarView",
        "event",
        params=WINDOW,
        headers={"Prefer": 'outlook.timezone="W. Europe Standard Time"'},
    ).json()["value"]
    assert [(v["type"], v["start"]["dateTime"][:16]) for v in view] == [
        ("occurrence", "2026-12-07T09:00"),
        ("exception", "2026-12-15T15:00"),
        ("occurrence", "2026-12-28T09:00"),
    ]
    assert {v["start"]["timeZone"] for v in view} == {"W. Europe Standard Time"}


def test_relative_monthly_pattern(graph: Graph) -> None:
    body = _weekly(3)
    body["recurrence"]["pattern"] = {
        "type": "relativeMonthly",
        "interval": 1,
        "daysOfWeek": ["friday"],
        "index": "last",
    }
    master = graph.request("POST", "/events", "event", json=body).json()
    instances = graph.request(
        "GET",
        f"/events/{master['id']}/instances",
        "event",
        params={"startDateTime": "2026-12-01T00:00:00Z", "endDateTime": "2027-04-01T00:00:00Z"},
    ).json()["value"]
    assert [i["start"]["dateTime"][:10] for i in instances] == [
        "2026-12-25",
        "2027-01-29",
        "2027-02-26",
    ]


def test_invalid_patterns_are_refused_without_writing(graph: Graph) -> None:
    body = _weekly(3)
    body["recurrence"]["pattern"]["type"] = "fortnightly"
    assert graph.request("POST", "/events", json=body).status_code == 400
    assert graph.request("GET", "/events").json()["value"] == []


def test_calendar_view_delta_lists_instances_not_masters(graph: Graph) -> None:
    master = graph.request("POST", "/events", "event", json=_weekly(2)).json()
    single = graph.request(
        "POST",
        "/events",
        "event",
        json={
            "subject": "Lunch",
            "isAllDay": True,
            "start": {"dateTime": "2026-12-09T00:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-10T00:00:00", "timeZone": "UTC"},
        },
    ).json()
    values, link, _ = graph.delta_round("/calendarView/delta", "event", params=WINDOW)
    assert sorted(v["type"] for v in values) == ["occurrence", "occurrence", "singleInstance"]
    graph.request("PATCH", f"/events/{single['id']}", json={"subject": "Long lunch"})
    graph.request("DELETE", f"/events/{master['id']}")
    changes, _, _ = graph.delta_round(link, "event")
    assert sorted(c.get("subject") or "removed" for c in changes) == [
        "Long lunch",
        "removed",
        "removed",
    ]
