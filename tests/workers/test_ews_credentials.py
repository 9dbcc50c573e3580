"""exchangelib gets the credentials, auth type and policy each configuration asked for.

exchangelib caches one Protocol per (endpoint, credentials) and keeps in it the auth type and
retry policy of the first configuration that made it; and `auth_type` loaded as a plain str
made stored OAuth2 users send Basic credentials with the OAuth2 auth type (TypeError:
OAuth2.__init__() got an unexpected keyword argument 'username').
"""

from __future__ import annotations

from exchangelib import FailFast, OAuth2AuthorizationCodeCredentials
from exchangelib.transport import BASIC, NTLM, OAUTH2
from sqlalchemy.orm import Session

from app.models.sync import AuthType, SyncUser
from app.users.connection import MailboxConnection, OAuthApp
from app.users.service import connection_for
from tests.factories.users import sync_user
from workers.connectors.ews.connection import PatientPolicy, open_account
from workers.connectors.ews.oauth import AppOnlyCredentials

EWS = "https://mail.example.com/EWS/Exchange.asmx"


def _reach(auth: AuthType, **changes: object) -> MailboxConnection:
    fields: dict[str, object] = {
        "mailbox": "ann@example.com",
        "ews_url": EWS,
        "auth_type": auth,
        "username": "svc@example.com",
        "secret": "one password for both",
        "impersonation": True,
    }
    return MailboxConnection(**{**fields, **changes})  # type: ignore[arg-type]


def test_one_account_with_basic_and_with_ntlm_keeps_its_own_auth_type() -> None:
    basic = open_account(_reach(AuthType.BASIC)).protocol
    ntlm = open_account(_reach(AuthType.NTLM)).protocol
    assert basic is not ntlm
    assert (basic.auth_type, ntlm.auth_type) == (BASIC, NTLM)


def test_the_probe_s_fail_fast_policy_is_not_the_sync_s_patient_one() -> None:
    reach = _reach(AuthType.BASIC, secret="another password")
    patient = open_account(reach).protocol
    fail_fast = open_account(reach, patient=False).protocol
    assert isinstance(patient.retry_policy, PatientPolicy)
    assert isinstance(fail_fast.retry_policy, FailFast)
    # Users of one configuration still share one protocol (its sessions and connections).
    assert open_account(_reach(AuthType.BASIC, secret="another password")).protocol is patient


def test_a_stored_oauth2_user_after_a_basic_user_gets_oauth2_credentials(
    database: object, db: Session
) -> None:
    sync_user(db, mailbox="basic@example.com", ews_url=EWS)
    oauth_id = sync_user(
        db, mailbox="oauth@example.com", ews_url=EWS, auth={"type": "oauth2", "token": "t" * 20}
    )
    db.commit()
    db.expire_all()
    stored = db.get(SyncUser, oauth_id)
    assert stored is not None
    assert stored.auth_type is AuthType.OAUTH2
    protocol = open_account(connection_for(stored)).protocol
    assert protocol.auth_type == OAUTH2
    assert isinstance(protocol.credentials, OAuth2AuthorizationCodeCredentials)


def test_users_of_one_app_registration_share_its_credentials() -> None:
    app = OAuthApp(
        tenant="contoso",
        client_id="app",
        client_secret="app secret value",
        client_certificate=None,
        authority_url="https://login.example.com",
        audience="https://mail.example.com",
    )
    ann = open_account(_reach(AuthType.OAUTH2, secret=None, username=None, oauth_app=app))
    bob = open_account(
        _reach(AuthType.OAUTH2, secret=None, username=None, oauth_app=app, mailbox="b@example.com")
    )
    assert isinstance(ann.protocol.credentials, AppOnlyCredentials)
    assert ann.protocol is bob.protocol
    assert ann.protocol.credentials.scope == ["https://mail.example.com/.default"]
    assert (
        ann.protocol.credentials.token_url == "https://login.example.com/contoso/oauth2/v2.0/token"
    )
