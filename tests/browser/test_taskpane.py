"""The task pane's flows in headless Chromium, against a real crmsync and PostgreSQL."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from app.crm.flags import flagged_person_ids
from app.crm.lookups import persons_with_email
from app.db import Database, unit_of_work
from app.models.licensing import LicenseSession
from tests.browser.cdp import Chromium
from tests.browser.conftest import PaneServer
from tests.factories import crm_records
from tests.factories.licensing import set_seats
from tests.factories.users import sync_user, user_token


def _alice(database: Database) -> tuple[int, str]:
    with unit_of_work(database) as db:
        user_id = sync_user(db, logon="alice")
        return user_id, user_token(db, "alice")


def _open_pane(browser: Chromium, server: PaneServer, mode: str = "read") -> None:
    browser.open(f"{server.url}/addin/taskpane.html?mode={mode}")
    browser.wait_for("!document.getElementById('sign-in').hidden")


def _submit_token(browser: Chromium, token: str) -> None:
    browser.evaluate(
        f"document.getElementById('token').value = {json.dumps(token)};"
        "document.getElementById('sign-in').requestSubmit()"
    )


def _sign_in(browser: Chromium, server: PaneServer, token: str, mode: str = "read") -> None:
    _open_pane(browser, server, mode)
    _submit_token(browser, token)
    browser.wait_for("!document.getElementById('main').hidden")


def _status_with(browser: Chromium, text: str) -> str:
    status: str = browser.wait_for(
        "(() => { const s = document.getElementById('status').textContent;"
        f" return s.includes({json.dumps(text)}) && s; }})()"
    )
    return status


def _sessions(database: Database, user_id: int) -> list[LicenseSession]:
    with unit_of_work(database) as db:
        return list(db.scalars(select(LicenseSession).where(LicenseSession.user_id == user_id)))


def _eventually(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def test_signing_in_holds_a_seat_that_heartbeats_and_ends_when_the_pane_closes(
    browser: Chromium, pane_server: PaneServer, committed_database: Database
) -> None:
    user_id, token = _alice(committed_database)
    _sign_in(browser, pane_server, token)

    [session] = _sessions(committed_database, user_id)
    assert session.kind == "plugin" and session.ended_at is None
    calls = [call["name"] for call in browser.evaluate("window.__officeCalls")]
    assert "roamingSettings.set" in calls and "roamingSettings.saveAsync" in calls

    # The pane beats every second here (CRMSYNC_ADDIN_HEARTBEAT_SECONDS=1).
    _eventually(lambda: _sessions(committed_database, user_id)[0].last_seen_at > session.started_at)

    browser.open("about:blank")  # Outlook closes the pane
    ended = _eventually(lambda: _sessions(committed_database, user_id)[0].ended_at)
    assert ended is not None
    assert _sessions(committed_database, user_id)[0].end_reason == "ended"


def test_sign_in_refusals_are_told_in_words(
    browser: Chromium, pane_server: PaneServer, committed_database: Database
) -> None:
    _user_id, token = _alice(committed_database)
    _open_pane(browser, pane_server)
    _submit_token(browser, "cst_not-a-real-token")
    wrong = _status_with(browser, "not accepted")
    assert wrong == (
        "Your crmsync token was not accepted (invalid or revoked token). "
        "Sign in again with a valid token."
    )

    with unit_of_work(committed_database) as db:
        set_seats(db, 0)
    _submit_token(browser, token)
    full = _status_with(browser, "seat")
    assert full.startswith("No licence seat is free: all 0 concurrent seats are in use.")
    assert "{" not in full


def test_searching_and_filing_the_selected_emails(
    browser: Chromium, pane_server: PaneServer, committed_database: Database
) -> None:
    _user_id, token = _alice(committed_database)
    with unit_of_work(committed_database) as db:
        acme = crm_records.company(db, "Acme Corporation")
        coyote = crm_records.person(
            db, "Wile", "Coyote", email="wile@acme.example", company_name="Acme Corporation"
        )
    _sign_in(browser, pane_server, token)

    browser.evaluate(
        "document.getElementById('query').value = 'acme';"
        "document.getElementById('search').requestSubmit()"
    )
    assert _status_with(browser, "records found") == "2 records found."
    labels = browser.evaluate(
        "Array.from(document.querySelectorAll('#results li')).map(li => li.textContent.trim())"
    )
    assert any("Acme Corporation (company)" in label for label in labels)
    assert any("Wile Coyote (person)" in label for label in labels)

    browser.evaluate("document.getElementById('file').click()")
    assert _status_with(browser, "Choose one or more records").startswith("Choose")

    browser.evaluate("document.querySelectorAll('input.target').forEach(b => b.click())")
    stand_ins = pane_server.stand_ins
    stand_ins.answer("/api/v1/filings", 503, {"detail": "the mailbox did not answer"})
    browser.evaluate("document.getElementById('file').click()")
    assert _status_with(browser, "not filed") == (
        "The email was not filed. crmsync had a problem (error 503): The mailbox did not answer."
    )

    filed = [{"communication_id": n, "created": True, "linked": []} for n in (1, 2)]
    stand_ins.answer("/api/v1/filings", 200, filed)
    browser.evaluate("document.getElementById('file').click()")
    assert _status_with(browser, "Filed") == "Filed 2 emails to 2 records."
    method, _path, body = stand_ins.requests[-1]
    assert method == "POST"
    assert body["item_ids"] == ["AAMkAD-open-email", "AAMkAD-second"]
    assert sorted(body["targets"], key=lambda t: t["entity"]) == [
        {"entity": "company", "id": acme},
        {"entity": "person", "id": coyote},
    ]


def test_adding_the_sender_as_a_contact(
    browser: Chromium, pane_server: PaneServer, committed_database: Database
) -> None:
    user_id, token = _alice(committed_database)
    with unit_of_work(committed_database) as db:
        crm_records.company(db, "Acme Corporation")
    _sign_in(browser, pane_server, token)

    prefilled = browser.evaluate(
        "['sender-first', 'sender-last', 'sender-email']"
        ".map(id => document.getElementById(id).value)"
    )
    assert prefilled == ["Wile E.", "Coyote", "wile@acme.example"]
    browser.evaluate(
        "document.getElementById('sender-company').value = 'Acme Corporation';"
        "document.getElementById('sender').requestSubmit()"
    )
    assert _status_with(browser, "Added") == (
        "Added Wile E. Coyote to the CRM and to your Outlook contacts."
    )
    with unit_of_work(committed_database) as db:
        [person_id] = persons_with_email(db, ["wile@acme.example"])["wile@acme.example"]
        assert person_id in flagged_person_ids(db, user_id)

    browser.evaluate("document.getElementById('sender').requestSubmit()")
    assert _status_with(browser, "not added") == (
        f"The contact was not added. wile@acme.example is already the email of CRM person "
        f"{person_id}."
    )


def test_attaching_a_shared_document_to_the_email_being_written(
    browser: Chromium, pane_server: PaneServer, committed_database: Database
) -> None:
    _user_id, token = _alice(committed_database)
    _sign_in(browser, pane_server, token, mode="compose")
    assert browser.evaluate("document.getElementById('sender-section').hidden") is True

    download = f"{pane_server.url}/api/v1/documents/7/content?link=signed"
    pane_server.stand_ins.answer(
        "/api/v1/documents",
        200,
        {
            "items": [{"id": 7, "filename": "Price list.pdf", "download_url": download}],
            "next_cursor": None,
        },
    )
    browser.evaluate("document.getElementById('show-documents').click()")
    browser.wait_for("!!document.querySelector('#documents button.attach')")
    browser.evaluate("document.querySelector('#documents button.attach').click()")
    assert _status_with(browser, "Attached") == "Attached Price list.pdf."
    attached = [
        call["args"]
        for call in browser.evaluate("window.__officeCalls")
        if call["name"] == "addFileAttachmentAsync"
    ]
    assert attached == [[download, "Price list.pdf"]]
    assert pane_server.stand_ins.requests[-1][:2] == ("GET", "/api/v1/documents")
