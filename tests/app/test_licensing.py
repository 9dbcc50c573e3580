"""Licence seats through the API: one seat per user however many sessions, freed at the end."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.licensing.service import sweep_expired_sessions
from tests.factories.licensing import age_session, set_seats
from tests.factories.users import sync_user, user_token
from workers.celery_app import app as celery_app
from workers.jobs.licensing import sweep_license_sessions

Headers = dict[str, str]


def _user(db: Session, logon: str) -> tuple[int, Headers]:
    user_id = sync_user(db, logon=logon)
    token = user_token(db, logon)
    db.commit()
    return user_id, {"Authorization": f"Bearer {token}"}


def _open(client: TestClient, headers: Headers, kind: str, user_id: int | None = None) -> str:
    body: dict[str, object] = {"kind": kind}
    if user_id is not None:
        body["user_id"] = user_id
    response = client.post("/api/v1/sessions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["session_id"]
    return session_id


def _in_use(client: TestClient, admin_headers: Headers) -> int:
    response = client.get("/api/v1/licenses", headers=admin_headers)
    assert response.status_code == 200, response.text
    seats: int = response.json()["seats_in_use"]
    return seats


def test_a_plugin_session_uses_one_seat(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    user_id, headers = _user(db, "alice")
    response = client.post("/api/v1/sessions", json={"kind": "plugin"}, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["session_id"]) >= 40  # random, not guessable
    assert body["user_id"] == user_id

    licenses = client.get("/api/v1/licenses", headers=admin_headers).json()
    assert licenses["seats_total"] == 5
    assert licenses["seats_in_use"] == 1
    [holder] = licenses["users"]
    assert holder["user_id"] == user_id and holder["logon"] == "alice"
    assert [s["session_id"] for s in holder["sessions"]] == [body["session_id"]]


def test_the_same_user_in_plugin_and_browser_uses_one_seat(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    user_id, headers = _user(db, "alice")
    _open(client, headers, "plugin")
    _open(client, admin_headers, "browser", user_id=user_id)  # the CRM reports a logon
    assert _in_use(client, admin_headers) == 1
    [holder] = client.get("/api/v1/licenses", headers=admin_headers).json()["users"]
    assert sorted(s["kind"] for s in holder["sessions"]) == ["browser", "plugin"]


def test_two_users_in_plugin_and_browser_use_two_seats(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    _alice, alice_headers = _user(db, "alice")
    bob, _bob_headers = _user(db, "bob")
    _open(client, alice_headers, "plugin")
    _open(client, admin_headers, "browser", user_id=bob)
    assert _in_use(client, admin_headers) == 2


def test_a_seat_is_freed_only_when_all_its_sessions_end(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    user_id, headers = _user(db, "alice")
    plugin = _open(client, headers, "plugin")
    browser = _open(client, admin_headers, "browser", user_id=user_id)

    assert client.delete(f"/api/v1/sessions/{plugin}", headers=headers).status_code == 204
    assert _in_use(client, admin_headers) == 1
    assert client.delete(f"/api/v1/sessions/{browser}", headers=admin_headers).status_code == 204
    assert _in_use(client, admin_headers) == 0
    # Ending twice is no error: the pane may report its close more than once.
    assert client.delete(f"/api/v1/sessions/{plugin}", headers=headers).status_code == 204


def test_no_free_seat_is_refused_naming_the_limit_while_open_sessions_go_on(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    set_seats(db, 1)
    db.commit()
    alice, alice_headers = _user(db, "alice")
    _bob, bob_headers = _user(db, "bob")
    held = _open(client, alice_headers, "plugin")

    refused = client.post("/api/v1/sessions", json={"kind": "plugin"}, headers=bob_headers)
    assert refused.status_code == 409
    assert "no licence seat is free" in refused.json()["detail"]
    assert "all 1 concurrent seats" in refused.json()["detail"]

    heartbeat = client.post(f"/api/v1/sessions/{held}/heartbeat", headers=alice_headers)
    assert heartbeat.status_code == 200
    # Alice already holds the seat, so her browser logon needs none.
    _open(client, admin_headers, "browser", user_id=alice)


def test_lowering_the_seats_keeps_open_sessions_and_refuses_new_ones(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    _alice, alice_headers = _user(db, "alice")
    _bob, bob_headers = _user(db, "bob")
    held = _open(client, alice_headers, "plugin")
    _open(client, bob_headers, "plugin")
    settings = {"seats_total": 1, "plugin_timeout_minutes": 5, "browser_timeout_minutes": 20}
    updated = client.put("/api/v1/licenses", json=settings, headers=admin_headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["seats_in_use"] == 2

    assert client.post(f"/api/v1/sessions/{held}/heartbeat", headers=alice_headers).is_success
    _carol, carol_headers = _user(db, "carol")
    refused = client.post("/api/v1/sessions", json={"kind": "plugin"}, headers=carol_headers)
    assert refused.status_code == 409


def test_expired_sessions_do_not_count_even_before_the_sweep(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    set_seats(db, 1)
    db.commit()
    _alice, alice_headers = _user(db, "alice")
    _bob, bob_headers = _user(db, "bob")
    stale = _open(client, alice_headers, "plugin")
    age_session(db, stale, minutes=6)  # past the plugin timeout of 5 minutes
    db.commit()

    assert _in_use(client, admin_headers) == 0
    _open(client, bob_headers, "plugin")
    late = client.post(f"/api/v1/sessions/{stale}/heartbeat", headers=alice_headers)
    assert late.status_code == 409
    assert "open a new session" in late.json()["detail"]
    history = client.get("/api/v1/licenses/history", headers=admin_headers).json()["items"]
    assert {(item["kind"], item["end_reason"]) for item in history} == {
        ("plugin", "expired"),
        ("plugin", None),
    }


def test_timeouts_per_kind_and_heartbeats_extend_them(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    user_id, headers = _user(db, "alice")
    settings = {"seats_total": 5, "plugin_timeout_minutes": 3, "browser_timeout_minutes": 30}
    assert client.put("/api/v1/licenses", json=settings, headers=admin_headers).is_success

    plugin = client.post("/api/v1/sessions", json={"kind": "plugin"}, headers=headers).json()
    browser = client.post(
        "/api/v1/sessions", json={"kind": "browser", "user_id": user_id}, headers=admin_headers
    ).json()
    for session, minutes in ((plugin, 3), (browser, 30)):
        lifetime = datetime.fromisoformat(session["expires_at"]) - datetime.fromisoformat(
            session["started_at"]
        )
        assert lifetime == timedelta(minutes=minutes)

    age_session(db, plugin["session_id"], minutes=2)
    db.commit()
    beat = client.post(f"/api/v1/sessions/{plugin['session_id']}/heartbeat", headers=headers)
    assert beat.status_code == 200
    extended = datetime.fromisoformat(beat.json()["expires_at"])
    assert extended > datetime.fromisoformat(plugin["expires_at"])


def test_the_sweep_ends_expired_sessions_frees_seats_and_records_history(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    user_id, headers = _user(db, "alice")
    plugin = _open(client, headers, "plugin")
    browser = _open(client, admin_headers, "browser", user_id=user_id)
    age_session(db, plugin, minutes=6)
    db.commit()

    assert sweep_expired_sessions(db) == 1
    db.commit()
    assert _in_use(client, admin_headers) == 1  # the browser session still holds the seat

    age_session(db, browser, minutes=21)
    db.commit()
    assert sweep_expired_sessions(db) == 1
    db.commit()
    assert client.get("/api/v1/licenses", headers=admin_headers).json()["users"] == []
    history = client.get(f"/api/v1/licenses/history?user_id={user_id}", headers=admin_headers)
    items = history.json()["items"]
    assert [(i["kind"], i["end_reason"]) for i in items] == [
        ("browser", "expired"),
        ("plugin", "expired"),
    ]
    # An expired session ended when it expired, not when the sweep noticed.
    assert all(i["ended_at"] is not None for i in items)


def test_only_the_owner_or_an_admin_may_touch_a_session(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    _alice, alice_headers = _user(db, "alice")
    _bob, bob_headers = _user(db, "bob")
    session = _open(client, alice_headers, "plugin")

    for method, path in (("POST", f"{session}/heartbeat"), ("DELETE", session)):
        response = client.request(method, f"/api/v1/sessions/{path}", headers=bob_headers)
        assert response.status_code == 404
        assert response.json()["detail"] == "no licence session with that id"
    assert client.post("/api/v1/sessions/guess/heartbeat", headers=alice_headers).status_code == 404
    assert client.delete(f"/api/v1/sessions/{session}", headers=admin_headers).status_code == 204
    assert _in_use(client, admin_headers) == 0


def test_who_a_session_is_for(client: TestClient, db: Session, admin_headers: Headers) -> None:
    _alice, alice_headers = _user(db, "alice")
    bob, _bob_headers = _user(db, "bob")

    other = client.post(
        "/api/v1/sessions", json={"kind": "plugin", "user_id": bob}, headers=alice_headers
    )
    assert other.status_code == 404
    nobody = client.post("/api/v1/sessions", json={"kind": "browser"}, headers=admin_headers)
    assert nobody.status_code == 422
    assert "body.user_id" in nobody.json()["detail"]
    unknown = client.post(
        "/api/v1/sessions", json={"kind": "browser", "user_id": 999999}, headers=admin_headers
    )
    assert unknown.status_code == 404
    assert "no CRM user 999999" in unknown.json()["detail"]
    bad_kind = client.post("/api/v1/sessions", json={"kind": "desktop"}, headers=alice_headers)
    assert bad_kind.status_code == 422


def test_the_licence_admin_api_needs_an_admin_key(client: TestClient, db: Session) -> None:
    _alice, headers = _user(db, "alice")
    settings = {"seats_total": 9, "plugin_timeout_minutes": 5, "browser_timeout_minutes": 20}
    assert client.get("/api/v1/licenses", headers=headers).status_code == 403
    assert client.put("/api/v1/licenses", json=settings, headers=headers).status_code == 403
    assert client.get("/api/v1/licenses/history", headers=headers).status_code == 403
    assert client.get("/api/v1/licenses").status_code == 401


def test_licence_settings_are_validated(client: TestClient, admin_headers: Headers) -> None:
    bad = {"seats_total": -1, "plugin_timeout_minutes": 0, "browser_timeout_minutes": 20}
    response = client.put("/api/v1/licenses", json=bad, headers=admin_headers)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "body.seats_total" in detail and "body.plugin_timeout_minutes" in detail


def test_history_is_paginated_newest_first(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    _alice, headers = _user(db, "alice")
    opened = [_open(client, headers, "plugin") for _ in range(3)]
    for session in opened:
        client.delete(f"/api/v1/sessions/{session}", headers=headers)

    first = client.get("/api/v1/licenses/history?limit=2", headers=admin_headers).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"/api/v1/licenses/history?limit=2&cursor={first['next_cursor']}", headers=admin_headers
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    assert all(item["end_reason"] == "ended" for item in first["items"] + rest["items"])


def test_the_seats_gauge_follows_the_seats(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    _alice, headers = _user(db, "alice")
    session = _open(client, headers, "plugin")
    assert "crmsync_license_seats_in_use 1.0" in client.get("/metrics").text
    client.delete(f"/api/v1/sessions/{session}", headers=headers)
    assert "crmsync_license_seats_in_use 0.0" in client.get("/metrics").text


def test_beat_sweeps_every_minute_through_the_licensing_task(
    client: TestClient, db: Session, admin_headers: Headers
) -> None:
    entry = next(
        e for e in celery_app.conf.beat_schedule.values() if e["task"] == "licensing.sweep"
    )
    assert entry["schedule"] == 60.0 and entry["options"]["expires"] <= 60
    assert "workers.jobs.licensing" in celery_app.conf.imports

    _alice, headers = _user(db, "alice")
    age_session(db, _open(client, headers, "plugin"), minutes=6)
    db.commit()
    assert sweep_license_sessions() == 1
    assert (
        client.get("/api/v1/licenses/history", headers=admin_headers).json()["items"][0][
            "end_reason"
        ]
        == "expired"
    )
