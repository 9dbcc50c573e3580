"""Security checks: credentials at rest, secrets in logs and answers, hostile XML against the
simulator, MIME bombs and hostile HTML through the filing API, and rate limits.

Upload size limits have their tests beside each upload (documents, imports, filings: a 413
naming the CRMSYNC_MAX_* setting), as do the simulator's refusal of an oversized request and the
sanitizing of the corpus' hostile email.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import time
from collections.abc import Iterator
from itertools import count
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import Database
from app.kit import log_redaction
from app.kit.crypto import SecretBox, SecretUnreadable, default_secret_box
from app.kit.rate_limit import RateLimiter, RedisCounter
from app.main import create_app
from app.models.crm import Communication
from app.models.sync import RunStatus, SyncUser
from ews_simulator.testing import SimulatorServer
from tests.factories import crm_records
from tests.factories.crm import person
from tests.factories.headers import user_with_headers
from tests.factories.users import admin_key, sync_user, user_token
from workers.connectors.ews.connection import ExchangeProbe
from workers.sync.runner import RunRequest, run_user_sync

Headers = dict[str, str]

# --- Stored credentials ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [
        {"type": "ntlm", "username": "CORP\\svc", "password": "ntlm-password-at-rest"},
        {"type": "oauth2", "token": "oauth-token-at-rest-0123456789"},
    ],
    ids=["ntlm", "oauth2"],
)
def test_every_kind_of_stored_secret_needs_the_key(db: Session, auth: dict[str, Any]) -> None:
    # Basic passwords: tests/app/test_users_api.py.
    secret = auth.get("password") or auth["token"]
    user_id = sync_user(db, auth=auth)
    rows = db.execute(text("SELECT * FROM crmsync_sync_user")).mappings().all()
    assert all(secret not in str(value) for row in rows for value in row.values())
    stored = db.get(SyncUser, user_id)
    assert stored is not None and stored.secret_encrypted is not None
    assert secret.encode() not in bytes(stored.secret_encrypted)
    with pytest.raises(SecretUnreadable):
        SecretBox("a key that is not the service's").decrypt(stored.secret_encrypted)
    assert default_secret_box().decrypt(stored.secret_encrypted) == secret


# --- Secrets in logs and answers ---------------------------------------------------------------

PASSWORD = "basic-pa55word-that-must-never-show"
TOKEN = "oauth2-access-token-that-must-never-show-0123456789"
BASIC_USER = "basic@example.com"
SECRETS = {
    "password": PASSWORD,
    "token": TOKEN,
    "basic credentials": base64.b64encode(f"{BASIC_USER}:{PASSWORD}".encode()).decode(),
}


def _leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


def test_secrets_stay_out_of_every_log_record_and_api_answer(
    caplog: pytest.LogCaptureFixture,
    database: Database,
    db: Session,
    simulator: SimulatorServer,
    admin_headers: Headers,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: crmsync's, exchangelib's, urllib3's, ...
    basic = sync_user(
        db,
        logon="basic",
        mailbox=BASIC_USER,
        ews_url=simulator.ews_url,
        auth={"type": "basic", "username": BASIC_USER, "password": PASSWORD},
    )
    oauth = sync_user(
        db,
        logon="oauth",
        mailbox="oauth@example.com",
        ews_url=simulator.ews_url,
        auth={"type": "oauth2", "token": TOKEN},
    )
    person(db, flagged_for=basic, pers_lastname="Lovelace")
    db.commit()
    simulator.seed(BASIC_USER, contacts=2)

    synced = run_user_sync(RunRequest(user_id=basic, trigger="test"))
    assert synced.status == RunStatus.SUCCESS, synced.message
    # The simulator takes HTTP Basic only: the OAuth user's run and connection test fail.
    refused = run_user_sync(RunRequest(user_id=oauth, trigger="test"))
    assert refused.status == RunStatus.FAILED

    app = create_app(database=database, mailbox_probe=ExchangeProbe())
    with TestClient(app) as client:
        probe = client.post(f"/api/v1/users/{oauth}/test-connection", headers=admin_headers)
        assert probe.json()["ok"] is False
        answers = [
            probe,
            client.post(f"/api/v1/users/{basic}/test-connection", headers=admin_headers),
            client.get("/api/v1/users", headers=admin_headers),
            client.get(f"/api/v1/users/{oauth}", headers=admin_headers),
            client.get(f"/api/v1/users/{oauth}/status", headers=admin_headers),
            client.get("/api/v1/runs", headers=admin_headers),
            client.get(f"/api/v1/runs/{refused.run_id}", headers=admin_headers),
            client.get(f"/api/v1/runs/{synced.run_id}/entries", headers=admin_headers),
            client.get("/api/v1/log-entries", headers=admin_headers),
            # Refused input is not echoed back either.
            client.post(
                "/api/v1/users",
                json={
                    "logon": "x",
                    "mailbox": "not an address",
                    "ews_url": simulator.ews_url,
                    "auth": {"type": "basic", "username": BASIC_USER, "password": PASSWORD},
                },
                headers=admin_headers,
            ),
            client.patch(
                f"/api/v1/users/{oauth}",
                json={"auth": {"type": "oauth2", "token": TOKEN, "username": 7}},
                headers=admin_headers,
            ),
        ]
    for answer in answers:
        assert not _leaks(answer.text), (answer.request.url, _leaks(answer.text), answer.text)
    logged = [
        (record.name, f"{record.getMessage()}\n{record.exc_text or ''}")
        for record in caplog.records
    ]
    assert any(name.startswith("exchangelib") for name, _ in logged), "exchangelib logged nothing"
    leaked = [(name, _leaks(message)) for name, message in logged if _leaks(message)]
    assert not leaked, leaked
    assert not _leaks(caplog.text)


@pytest.mark.parametrize(
    "logged",
    [
        "{'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='}",
        "Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.payload.signature",
        "authorization=NTLM TlRMTVNTUAADAAAAGAAYAEgAAAA",
        '"proxy-authorization": "Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnagMDAu"',
        "refused: oauth-token-known-to-crmsync-42 is not valid",
    ],
)
def test_redaction_covers_every_form_of_credentials(logged: str) -> None:
    log_redaction.remember_secret("oauth-token-known-to-crmsync-42")
    redacted = log_redaction.redact(logged)
    assert log_redaction.REDACTED in redacted
    for credential in ("dXNlcjpw", "eyJ0eXAi", "TlRMTVNT", "YIIGhgYG", "known-to-crmsync"):
        assert credential not in redacted


# --- Hostile XML against the simulator ---------------------------------------------------------

_ENVELOPE = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body>{}</s:Body>'
    "</s:Envelope>"
)
_GET_INBOX = _ENVELOPE.format(
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'
)
_LAUGHS = "".join(
    f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' if n else '<!ENTITY lol0 "lol">' for n in range(10)
)
_DEPTH = 100_000

HOSTILE_XML = {
    "billion laughs": f"<!DOCTYPE lolz [{_LAUGHS}]><lolz>&lol9;</lolz>",
    "external entity": (
        '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + _ENVELOPE.format("<m:GetFolder>&xxe;</m:GetFolder>")
    ),
    "external DTD": '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><x/>',
    "parameter entity": ('<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><x/>'),
    "DTD behind a long comment": f"<!--{' ' * 10_000}--><!DOCTYPE x [<!ELEMENT x ANY>]><x/>",
    "deeply nested": _ENVELOPE.format("<t:a>" * _DEPTH + "</t:a>" * _DEPTH),
}


@pytest.mark.parametrize("body", list(HOSTILE_XML.values()), ids=list(HOSTILE_XML))
def test_hostile_xml_is_refused_quickly_and_the_simulator_keeps_answering(
    simulator: SimulatorServer, body: str
) -> None:
    auth = ("owner@example.com", "x")
    headers = {"Content-Type": "text/xml"}
    started = time.monotonic()
    response = httpx.post(
        simulator.ews_url, content=f'<?xml version="1.0"?>{body}', auth=auth, headers=headers
    )
    assert time.monotonic() - started < 2
    assert response.status_code in (400, 413, 500), response.status_code
    assert b"Fault" in response.content or response.status_code != 500
    assert b"root:" not in response.content  # /etc/passwd was not read
    assert len(response.content) < 10_000  # no entity was expanded into the answer
    healthy = httpx.post(simulator.ews_url, content=_GET_INBOX, auth=auth, headers=headers)
    assert healthy.status_code == 200 and b"NoError" in healthy.content


# --- MIME bombs and hostile HTML through the filing API ----------------------------------------


def _email(content_type: str, body: str) -> bytes:
    return (
        "From: Mallory <mallory@evil.example>\nTo: jane@example.com\nSubject: bomb\n"
        f"MIME-Version: 1.0\nContent-Type: {content_type}\n\n{body}"
    ).encode()


def _nested_multiparts(depth: int) -> bytes:
    body = "Content-Type: text/plain\n\nhi\n"
    for level in range(depth):
        body = (
            f"Content-Type: multipart/mixed; boundary=b{level}\n\n--b{level}\n{body}--b{level}--\n"
        )
    headers, _, rest = body.partition("\n\n")
    return _email(headers.removeprefix("Content-Type: "), rest)


def _many_parts(parts: int) -> bytes:
    body = "".join(f"--x\nContent-Type: text/plain\n\np{n}\n" for n in range(parts))
    return _email("multipart/mixed; boundary=x", f"{body}--x--\n")


def _base64_attachment(decoded_bytes: int) -> bytes:
    encoded = base64.encodebytes(b"\0" * decoded_bytes).decode()
    return _email(
        "multipart/mixed; boundary=x",
        "--x\nContent-Type: text/plain\n\nsee attached\n"
        "--x\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
        f'Content-Disposition: attachment; filename="zeros.bin"\n\n{encoded}--x--\n',
    )


@pytest.fixture
def filer(db: Session) -> tuple[Headers, str]:
    """A user's headers and the targets field naming a company of the CRM."""
    _user_id, headers = user_with_headers(db, "filer")
    company = crm_records.company(db, "Target")
    db.commit()
    return headers, json.dumps([{"entity": "company", "id": company}])


def _file(client: TestClient, filer: tuple[Headers, str], raw: bytes, **extra: Any) -> Any:
    headers, targets = filer
    return client.post(
        "/api/v1/filings",
        headers=headers,
        files={"files": ("mail.eml", raw, "message/rfc822")},
        data={"targets": targets},
        **extra,
    )


@pytest.fixture
def small_messages_client(database: Database) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={"max_message_bytes": 8 * 1024 * 1024})
    with TestClient(create_app(settings=settings, database=database)) as client:
        yield client


@pytest.mark.parametrize(
    ("raw", "status", "reason"),
    [
        (_nested_multiparts(60), 422, "multipart containers"),
        (_many_parts(100_000), 422, "MIME parts"),
        # Decoding shrinks base64, so the limit on the upload bounds what is decoded.
        (_base64_attachment(9 * 1024 * 1024), 413, "CRMSYNC_MAX_MESSAGE_BYTES"),
    ],
    ids=["nested multiparts", "100,000 parts", "base64 bomb"],
)
def test_mime_bombs_are_refused_quickly(
    small_messages_client: TestClient,
    filer: tuple[Headers, str],
    raw: bytes,
    status: int,
    reason: str,
) -> None:
    started = time.monotonic()
    response = _file(small_messages_client, filer, raw)
    assert time.monotonic() - started < 3
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]


def test_a_compressed_upload_is_never_inflated(
    client: TestClient, filer: tuple[Headers, str]
) -> None:
    headers, targets = filer
    multipart = httpx.Request(
        "POST",
        "http://x/",
        files={"files": ("mail.eml", _many_parts(10), "message/rfc822")},
        data={"targets": targets},
    )
    multipart.read()
    bomb = gzip.compress(multipart.content + b"\0" * 50_000_000)
    started = time.monotonic()
    response = client.post(
        "/api/v1/filings",
        content=bomb,
        headers={
            **headers,
            "Content-Type": multipart.headers["Content-Type"],
            "Content-Encoding": "gzip",
        },
    )
    assert time.monotonic() - started < 3
    assert 400 <= response.status_code < 500, response.text


HOSTILE_HTML = """<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">
</head><body>
<p>Dear customer</p>
<a href="JaVaScRiPt:steal()">a</a>
<a href="&#106;avascript:steal()">b</a>
<a href=" javascript:steal()">c</a>
<svg onload="steal()"><script>steal()</script></svg>
<img src="x" onerror="steal()">
<img srcset="https://evil.example/track.png 1x">
<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">
<div style="background:url(https://evil.example/bg.png)">styled</div>
</body></html>
"""


def test_hostile_html_in_a_filed_email_is_stored_sanitized(
    client: TestClient, db: Session, filer: tuple[Headers, str]
) -> None:
    response = _file(client, filer, _email("text/html; charset=utf-8", HOSTILE_HTML))
    assert response.status_code == 200, response.text
    stored = db.get(Communication, response.json()[0]["communication_id"])
    assert stored is not None and stored.comm_email is not None
    html = stored.comm_email.lower()
    for dangerous in (
        "javascript:",
        "&#106;",
        "<script",
        "onload",
        "onerror",
        "<svg",
        "<meta",
        "<base",
        "<link",
        "<object",
        "<embed",
        "srcset",
        "evil.example",
        "style=",
    ):
        assert dangerous not in html, dangerous
    assert "dear customer" in html


# --- Rate limits -------------------------------------------------------------------------------

# A frozen clock: a test's requests must not straddle the start of a new window.
FROZEN_NOW = 1_800_000_000.0
_addresses = count(1)


def _limited_settings(backend: str) -> Settings:
    limits = {"rate_limit_per_minute": 3, "failed_auth_limit_per_minute": 2}
    if backend == "in-process":
        limits.update(broker_url="", redis_url="")
    return get_settings().model_copy(update=limits)


def _limited_app(database: Database, backend: str) -> FastAPI:
    settings = _limited_settings(backend)
    app = create_app(settings=settings, database=database)
    app.state.rate_limiter = RateLimiter.from_settings(settings, clock=lambda: FROZEN_NOW)
    return app


def _client_at(app: FastAPI) -> TestClient:
    """A client at an address of its own, so no other test's failures count against it."""
    return TestClient(app, client=(f"198.51.100.{next(_addresses)}", 50000))


@pytest.mark.parametrize("backend", ["redis", "in-process"])
def test_a_token_over_its_limit_gets_429_and_other_tokens_do_not(
    database: Database, db: Session, backend: str
) -> None:
    busy = {"Authorization": f"Bearer {admin_key(db)}"}
    calm = {"Authorization": f"Bearer {admin_key(db)}"}
    db.commit()
    with _client_at(_limited_app(database, backend)) as client:
        assert [client.get("/api/v1/users", headers=busy).status_code for _ in range(3)] == [
            200
        ] * 3
        refused = client.get("/api/v1/users", headers=busy)
        assert client.get("/api/v1/users", headers=calm).status_code == 200
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "CRMSYNC_RATE_LIMIT_PER_MINUTE" in refused.json()["detail"]


WRONG = {"Authorization": "Bearer cst_wrong"}


def test_failed_authentications_are_limited_and_a_valid_token_still_passes(
    database: Database, db: Session
) -> None:
    sync_user(db, logon="guessed")
    valid = {"Authorization": f"Bearer {user_token(db, 'guessed')}"}
    admin = {"Authorization": f"Bearer {admin_key(db)}"}
    db.commit()
    app = _limited_app(database, "redis")
    with _client_at(app) as guesser, _client_at(app) as elsewhere:
        guesses = [
            guesser.get("/api/v1/users/me", headers={"Authorization": f"Bearer cst_guess{n}"})
            for n in range(3)
        ]
        # Behind one proxy every client shares an address: others' failures lock nobody out.
        assert guesser.get("/api/v1/users/me", headers=valid).status_code == 200
        assert guesser.get("/api/v1/users", headers=admin).status_code == 200
        assert (
            guesser.get("/api/v1/users/me", headers={"Authorization": "Bearer x"}).status_code
            == 429
        )
        # Requests without any token are no guesses.
        assert {elsewhere.get("/api/v1/users/me").status_code for _ in range(3)} == {401}
        assert (
            elsewhere.get("/api/v1/users/me", headers={"Authorization": "Bearer x"}).status_code
            == 401
        )
    assert [g.status_code for g in guesses] == [401, 401, 429]
    assert "CRMSYNC_FAILED_AUTH_LIMIT_PER_MINUTE" in guesses[2].json()["detail"]
    assert int(guesses[2].headers["Retry-After"]) > 0


def _proxied_app(database: Database, trusted: str) -> FastAPI:
    settings = _limited_settings("redis").model_copy(
        update={"trusted_proxies": Settings(trusted_proxies=trusted).trusted_proxies}
    )
    app = create_app(settings=settings, database=database)
    app.state.rate_limiter = RateLimiter.from_settings(settings, clock=lambda: FROZEN_NOW)
    return app


def test_forwarded_for_is_ignored_from_a_peer_that_is_no_configured_proxy(
    database: Database,
) -> None:
    # Loopback is no exception: uvicorn trusts it by default, crmsync does not.
    with _client_at(_proxied_app(database, "")) as attacker:
        rotated = [
            attacker.get(
                "/api/v1/users/me", headers={**WRONG, "X-Forwarded-For": f"203.0.113.{n}"}
            ).status_code
            for n in range(3)
        ]
    assert rotated == [401, 401, 429]


def test_behind_a_configured_proxy_each_forwarded_client_has_its_own_limit(
    database: Database,
) -> None:
    proxy = f"198.51.100.{next(_addresses)}"
    app = _proxied_app(database, f"{proxy}, 10.0.0.0/8")
    with TestClient(app, client=(proxy, 50000)) as through_proxy:

        def attempt(forwarded_for: str) -> int:
            headers = {**WRONG, "X-Forwarded-For": forwarded_for}
            return through_proxy.get("/api/v1/users/me", headers=headers).status_code

        # The client wrote the left part; the proxies appended the right: the first address
        # from the right that is no proxy of ours is the client.
        victim = f"192.0.2.{next(_addresses)}"
        first = [attempt(f"{victim}, 203.0.113.9, 10.1.2.3") for _ in range(3)]
        assert attempt(f"{victim}, 203.0.113.10") == 401
        assert attempt(victim) == 401
    assert first == [401, 401, 429]


def test_without_redis_limits_count_per_process_and_health_says_so(
    database: Database, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    headers = {"Authorization": f"Bearer {admin_key(db)}"}
    db.commit()
    app = create_app(database=database)
    unreachable = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1)
    app.state.rate_limiter = RateLimiter(
        RedisCounter(unreachable, "crmsync:ratelimit:unreachable"),
        per_token=2,
        failed_auth_per_address=1,
        clock=lambda: FROZEN_NOW,
    )
    with caplog.at_level(logging.WARNING, "crmsync.rate_limit"), _client_at(app) as client:
        statuses = [client.get("/api/v1/users", headers=headers).status_code for _ in range(3)]
        health = client.get("/health")
    assert statuses == [200, 200, 429]
    assert "rate limits counted per process: Redis failed" in caplog.text
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["rate_limits"].startswith("per-process: Redis unreachable")


def test_limits_are_shared_again_once_redis_answers(caplog: pytest.LogCaptureFixture) -> None:
    import redis

    clock = [0.0]
    counter = RedisCounter(
        redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1),
        "crmsync:ratelimit:recovering",
        clock=lambda: clock[0],
    )
    assert counter.add("k", 1) == 1
    assert counter.mode().startswith("per-process")
    counter._client = redis.Redis.from_url(get_settings().effective_redis_url or "")
    counter._client.delete("crmsync:ratelimit:recovering:k:1")
    # Within the retry delay the process keeps counting by itself ...
    assert counter.add("k", 1) == 2
    clock[0] += 31
    # ... then Redis counts again.
    with caplog.at_level(logging.WARNING, "crmsync.rate_limit"):
        assert counter.add("k", 1) == 1
        assert counter.mode() == "ok"
    assert "shared through Redis again" in caplog.text
