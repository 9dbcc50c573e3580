"""Users of an OAuth2 connection synchronize contacts, appointments and tasks over HTTPS.

The simulator serves TLS with a CA it generated (trusted through CRMSYNC_CA_BUNDLE, nothing
switched off) and an authority that issues client-credentials tokens for its own audience;
EWS accepts those tokens until they expire, and only over HTTPS.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.config import get_settings
from app.connections import service as connections_service
from app.connections.schemas import ConnectionCreate
from app.db import Database
from app.kit.tls import trusted_ca_file
from app.models.sync import RunStatus, SyncUser
from app.users import service as users_service
from app.users.schemas import SyncUserCreate
from ews_simulator.testing import SimulatorServer
from tests.e2e.conftest import SchemaRecorder
from tests.factories.certificates import app_certificate, certificate_only
from tests.factories.communications import appointment, task
from tests.factories.crm import person
from workers.connectors.ews.connection import ExchangeProbe, open_account
from workers.sync.runner import RunRequest, run_user_sync

TENANT = "contoso.onmicrosoft.com"
SECRET_APP, CERTIFICATE_APP = "app-with-secret", "app-with-certificate"
CLIENT_SECRET = "the-app-client-secret-0123456789"
APP_PEM = app_certificate("crmsync e2e")


@pytest.fixture(scope="module")
def https_simulator(schema_recorder: SchemaRecorder) -> Iterator[SimulatorServer]:
    with SimulatorServer(
        tls=True,
        clients={SECRET_APP: CLIENT_SECRET},
        certificates={CERTIFICATE_APP: certificate_only(APP_PEM).encode()},
    ) as server:
        server.add_observer(schema_recorder)
        yield server


@pytest.fixture
def sim(
    https_simulator: SimulatorServer, schema_recorder: SchemaRecorder
) -> Iterator[SimulatorServer]:
    https_simulator.reset()
    schema_recorder.errors.clear()
    settings = get_settings()
    before = settings.ca_bundle
    settings.ca_bundle = https_simulator.ca_file
    trusted_ca_file.cache_clear()
    yield https_simulator
    settings.ca_bundle = before
    trusted_ca_file.cache_clear()
    assert not schema_recorder.errors, "\n".join(schema_recorder.errors)


def _connection(
    db: Session, sim: SimulatorServer, name: str, tenant: str = TENANT, **credential: str
) -> None:
    connections_service.create_connection(
        db,
        ConnectionCreate(
            name=name,
            ews_url=sim.ews_url,
            auth="oauth2",
            tenant=tenant,
            authority_url=sim.url,
            impersonation=True,
            **credential,
        ),
    )


def _user(db: Session, logon: str, **reach: Any) -> int:
    body = SyncUserCreate.model_validate(
        {"logon": logon, "mailbox": f"{logon}@contoso.com", **reach}
    )
    return users_service.create_sync_user(db, body).user_id


def _sync(user_id: int) -> Any:
    run = run_user_sync(RunRequest(user_id=user_id, trigger="test"))
    assert run.status == RunStatus.SUCCESS, run.message
    return run


def _soon(days: int, hour: int) -> datetime:
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None)
    return today + timedelta(days=days)


CREDENTIALS = {
    "secret": {"client_id": SECRET_APP, "client_secret": CLIENT_SECRET},
    "certificate": {"client_id": CERTIFICATE_APP, "client_certificate": APP_PEM},
}


@pytest.mark.parametrize("credential", sorted(CREDENTIALS))
def test_users_of_an_oauth2_connection_sync_contacts_appointments_and_tasks(
    database: Database, db: Session, sim: SimulatorServer, credential: str
) -> None:
    _connection(db, sim, "exo", **CREDENTIALS[credential])
    issued = sim.tokens_issued()
    users = {logon: _user(db, logon, connection="exo") for logon in ("ann", "bob")}
    for logon, user_id in users.items():
        person(db, flagged_for=user_id, pers_firstname="Ada", pers_lastname=f"Lovelace-{logon}")
        appointment(
            db,
            user_id,
            comm_subject=f"Review with {logon}",
            comm_datetime=_soon(1, 10),
            comm_todatetime=_soon(1, 11),
        )
        task(db, user_id, comm_subject=f"Call back {logon}", comm_status="In Progress")
        sim.seed(f"{logon}@contoso.com", contacts=2)
    db.commit()

    for logon, user_id in users.items():
        run = _sync(user_id)
        assert run.counts["contacts"]["crm_to_outlook"]["created"] == 1
        assert run.counts["contacts"]["outlook_to_crm"]["created"] == 2
        assert run.counts["appointments"]["crm_to_outlook"]["created"] == 1
        assert run.counts["tasks"]["crm_to_outlook"]["created"] == 1
        user = db.get(SyncUser, user_id)
        assert user is not None
        account = open_account(users_service.connection_for(user))
        assert {c.surname for c in account.contacts.all()} >= {f"Lovelace-{logon}"}
        assert [a.subject for a in account.calendar.all()] == [f"Review with {logon}"]
        assert [t.subject for t in account.tasks.all()] == [f"Call back {logon}"]
        assert [t.status for t in account.tasks.all()] == ["InProgress"]
        again = _sync(user_id)
        assert all(not sides for sides in again.counts.values()), again.counts
    # One app token serves every user of the connection while it lasts.
    assert sim.tokens_issued() == issued + 1


def test_an_expired_token_is_replaced_and_the_run_goes_on(
    database: Database, db: Session, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sim.simulator.oauth is not None
    monkeypatch.setattr(sim.simulator.oauth.authority, "lifetime_seconds", 3)
    # A tenant of its own: no token cached by another test's connection serves this one.
    _connection(db, sim, "exo", tenant="short-lived.example", **CREDENTIALS["secret"])
    user_id = _user(db, "ann", connection="exo")
    db.commit()
    _sync(user_id)
    issued = sim.tokens_issued()
    sim.seed("ann@contoso.com", contacts=1)
    # crmsync renews a token a third of its life early, so 2 s into a 3 s token it is stale.
    time.sleep(2.2)
    run = _sync(user_id)
    assert run.counts["contacts"]["outlook_to_crm"]["created"] == 1
    assert sim.tokens_issued() > issued


def test_basic_and_oauth2_users_alternate_on_one_endpoint(
    database: Database, db: Session, sim: SimulatorServer
) -> None:
    """The OAuth user after the Basic user used to fail inside exchangelib's protocol cache."""
    _connection(db, sim, "exo", **CREDENTIALS["certificate"])
    basic = _user(
        db,
        "basic",
        ews_url=sim.ews_url,
        auth={"type": "basic", "username": "basic@contoso.com", "password": "basic-pw"},
    )
    oauth = _user(db, "oauth", connection="exo")
    # A user's own static access token (issued elsewhere) keeps working, over HTTPS too.
    static_token = sim.simulator.oauth.authority.issue(  # type: ignore[union-attr]
        {
            "grant_type": "client_credentials",
            "client_id": SECRET_APP,
            "client_secret": CLIENT_SECRET,
            "scope": f"{sim.url}/.default",
        },
        f"{sim.url}/{TENANT}/oauth2/v2.0/token",
    )["access_token"]
    static = _user(
        db,
        "static",
        ews_url=sim.ews_url,
        auth={"type": "oauth2", "token": static_token, "impersonation": True},
    )
    for user_id in (basic, oauth, static):
        person(db, flagged_for=user_id, pers_lastname=f"Person of {user_id}")
    db.commit()
    for user_id in (basic, oauth, static, basic, oauth, static):
        _sync(user_id)
    mailboxes = sim.stats()["mailboxes"]
    for logon in ("basic", "oauth", "static"):
        assert mailboxes[f"{logon}@contoso.com"]["items"] == 1


def test_bearer_tokens_are_refused_over_plain_http(database: Database, db: Session) -> None:
    with SimulatorServer() as plain:
        user_id = _user(
            db,
            "ann",
            ews_url=plain.ews_url,
            auth={"type": "oauth2", "token": "a-token-that-must-not-travel", "impersonation": True},
        )
        db.commit()
        run = run_user_sync(RunRequest(user_id=user_id, trigger="test"))
        assert run.status == RunStatus.FAILED
        assert "only over https" in (run.message or "")
        assert plain.stats()["requests"] == {}


def test_a_wrong_client_secret_fails_the_run_with_the_authority_s_reason(
    database: Database, db: Session, sim: SimulatorServer
) -> None:
    _connection(db, sim, "exo", client_id=SECRET_APP, client_secret="not-the-secret")
    user_id = _user(db, "ann", connection="exo")
    db.commit()
    run = run_user_sync(RunRequest(user_id=user_id, trigger="test"))
    assert run.status == RunStatus.FAILED
    assert "invalid_client" in (run.message or "")
    assert "not-the-secret" not in (run.message or "")


def test_connection_test_gets_a_token_and_reaches_the_mailbox(
    database: Database, db: Session, sim: SimulatorServer
) -> None:
    _connection(db, sim, "exo", **CREDENTIALS["certificate"])
    _connection(db, sim, "wrong", client_id=SECRET_APP, client_secret="not-the-secret")
    db.commit()
    probe = ExchangeProbe()
    good = connections_service.test_connection(db, "exo", probe, "ann@contoso.com")
    assert good.ok, good.detail
    bad = connections_service.test_connection(db, "wrong", probe, "ann@contoso.com")
    assert not bad.ok
    assert "AADSTS7000215" in bad.detail
