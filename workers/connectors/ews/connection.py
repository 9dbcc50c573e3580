"""exchangelib accounts built from crmsync's mailbox connections, and error classification.

This package is the only place that imports exchangelib, so another connector (Microsoft
Graph) can stand beside it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests.exceptions
from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    Account,
    Configuration,
    Credentials,
    FailFast,
    FaultTolerance,
    OAuth2AuthorizationCodeCredentials,
    Version,
)
from exchangelib.errors import (
    CASError,
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorInvalidSyncStateData,
    ErrorMailboxStoreUnavailable,
    ErrorNonExistentMailbox,
    ErrorServerBusy,
    ErrorTimeoutExpired,
    RateLimitError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.transport import BASIC, NOAUTH, NTLM, OAUTH2
from exchangelib.version import EXCHANGE_2016
from oauthlib.oauth2 import InsecureTransportError, OAuth2Token

from app.kit import log_redaction
from app.kit.sync_terms import ErrorClass
from app.models.sync import AuthType
from app.users.connection import MailboxConnection, ProbeResult
from workers.connectors.ews import transport
from workers.connectors.ews.oauth import AppOnlyCredentials, AuthorityUnreachable, TokenRefused

transport.install()
# exchangelib logs request headers, Authorization included, at DEBUG.
log_redaction.install()

_AUTH_TYPES = {
    AuthType.BASIC: BASIC,
    AuthType.NTLM: NTLM,
    AuthType.OAUTH2: OAUTH2,
    AuthType.NOAUTH: NOAUTH,
}

# exchangelib keeps one protocol (HTTP session pool) per Configuration; building one per call
# would open new connections for every job. Keyed on everything that makes a configuration.
_configurations: dict[tuple[Any, ...], Configuration] = {}
_configurations_lock = threading.Lock()


class PatientPolicy(FaultTolerance):  # type: ignore[misc]
    """Rides through throttling for at most `max_wait` in a row; takes a 401 for what it is.

    exchangelib's FaultTolerance retries a 401 as throttling until its deadline, which turns
    wrong credentials into a minute-long wait and a "transient" failure. A rare throttling 401
    now fails one run; suspension needs several consecutive permanent failures.

    FaultTolerance also bounds each back-off by `max_wait`, not their sum: a server answering
    every request with 503 and "Retry-After: 1" (or ErrorServerBusy with a short
    BackOffMilliseconds) would hold the run, and its worker, for ever. Each back-off the server
    asks for is honoured; once they add up to more than `max_wait` without an HTTP 200 between
    them, the request fails as throttled (transient: the run is retried later). Like
    exchangelib's own back-off, the streak is shared by the threads using this configuration.
    """

    def __init__(self, max_wait: int) -> None:
        super().__init__(max_wait=max_wait)
        self._backing_off_since: float | None = None

    def back_off(self, seconds: float | None) -> None:
        now = time.monotonic()
        if self._backing_off_since is None:
            self._backing_off_since = now
        waited = now - self._backing_off_since
        if waited + (seconds or self.DEFAULT_BACKOFF) > self.max_wait:
            self._backing_off_since = None
            raise RateLimitError(
                f"Exchange asked to back off for more than {self.max_wait} s in a row",
                wait=seconds,
            )
        super().back_off(seconds)

    def raise_response_errors(self, response: Any) -> None:
        if response.status_code == 401:
            raise UnauthorizedError(f"Invalid credentials for {response.url}")
        super().raise_response_errors(response)
        if response.status_code == 200:
            self._backing_off_since = None


def _credentials(connection: MailboxConnection) -> Any:
    if connection.auth_type is AuthType.NOAUTH:
        return None
    log_redaction.remember_secret(connection.secret, connection.username)
    if connection.oauth_app is not None:
        return AppOnlyCredentials(connection.oauth_app)
    if connection.auth_type is AuthType.OAUTH2:
        # A user's own static access token (whoever issued it renews it, not crmsync).
        token = OAuth2Token({"access_token": connection.secret, "token_type": "Bearer"})
        return OAuth2AuthorizationCodeCredentials(access_token=token)
    return Credentials(username=connection.username or "", password=connection.secret or "")


def _configuration(connection: MailboxConnection, *, patient: bool) -> Configuration:
    key = (
        connection.ews_url,
        connection.auth_type,
        connection.username,
        connection.secret,
        connection.oauth_app,
        connection.timeout_seconds,
        patient,
    )
    assert connection.ews_url is not None, "a Graph connection has no EWS endpoint"
    with _configurations_lock:
        configuration = _configurations.get(key)
        if configuration is None:
            credentials = _credentials(connection)
            if credentials is not None:
                # exchangelib caches one Protocol per (endpoint, credentials), and a Protocol
                # keeps the auth type and retry policy of the first configuration it served:
                # Basic and NTLM with one account, or the patient and the fail-fast policy,
                # would share it. Credentials that carry the whole key are equal only for
                # equal configurations.
                credentials.configuration_key = key
            policy = PatientPolicy(max_wait=connection.timeout_seconds) if patient else FailFast()
            configuration = Configuration(
                service_endpoint=connection.ews_url,
                credentials=credentials,
                auth_type=_AUTH_TYPES[connection.auth_type],
                version=Version(build=EXCHANGE_2016),
                retry_policy=policy,
            )
            _configurations[key] = configuration
        return configuration


def open_account(connection: MailboxConnection, *, patient: bool = True) -> Account:
    """An exchangelib Account for the mailbox; `patient` rides through throttling politely."""
    access_type = IMPERSONATION if connection.impersonation else DELEGATE
    return Account(
        primary_smtp_address=connection.mailbox,
        config=_configuration(connection, patient=patient),
        autodiscover=False,
        access_type=access_type,
        default_timezone=None,
    )


def classify(exc: BaseException) -> tuple[ErrorClass, str]:
    """Whether retrying later can help, and a sentence an administrator understands."""
    known = _known_failure(exc)
    return known if known is not None else (ErrorClass.PERMANENT, f"{type(exc).__name__}: {exc}")


def is_expected(exc: BaseException) -> bool:
    """A condition of the mailbox, the credentials or the network, not a fault of crmsync.

    Such failures are logged as one line with their reason; only unexpected ones carry a
    traceback above DEBUG.
    """
    return _known_failure(exc) is not None


def is_authentication_failure(exc: BaseException) -> bool:
    """Exchange or the token issuer refused the credentials: an administrator must act."""
    return isinstance(exc, UnauthorizedError | TokenRefused)


def _known_failure(exc: BaseException) -> tuple[ErrorClass, str] | None:
    if isinstance(exc, UnauthorizedError):
        return ErrorClass.PERMANENT, "Exchange refused the credentials (HTTP 401)"
    if isinstance(exc, TokenRefused):
        return ErrorClass.PERMANENT, f"the token issuer refused the app's credentials: {exc}"
    if isinstance(exc, AuthorityUnreachable):
        return ErrorClass.TRANSIENT, str(exc)
    if isinstance(exc, InsecureTransportError):
        return ErrorClass.PERMANENT, "OAuth2 bearer tokens travel only over https"
    if isinstance(exc, ErrorImpersonateUserDenied):
        return ErrorClass.PERMANENT, "the service account may not impersonate this mailbox"
    if isinstance(exc, ErrorNonExistentMailbox):
        return ErrorClass.PERMANENT, "Exchange has no such mailbox"
    if isinstance(exc, ErrorAccessDenied):
        return ErrorClass.PERMANENT, f"Exchange denied access: {exc}"
    if isinstance(exc, CASError):
        return ErrorClass.PERMANENT, f"Exchange front end refused the request: {exc}"
    if isinstance(exc, ErrorServerBusy | RateLimitError):
        return ErrorClass.TRANSIENT, "Exchange is throttling requests (ErrorServerBusy)"
    if isinstance(exc, ErrorTimeoutExpired) and "ConnectionError" in str(exc):
        # exchangelib re-raises a refused or dropped connection as a timeout.
        return ErrorClass.TRANSIENT, "cannot reach the EWS endpoint (connection refused or lost)"
    if isinstance(exc, ErrorMailboxStoreUnavailable | ErrorTimeoutExpired):
        return ErrorClass.TRANSIENT, f"Exchange is temporarily unavailable: {exc}"
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return ErrorClass.TRANSIENT, f"cannot reach the EWS endpoint: {type(exc).__name__}"
    if isinstance(exc, ErrorInvalidSyncStateData):
        return ErrorClass.TRANSIENT, "the stored Exchange sync state is no longer valid"
    if isinstance(exc, TransportError):
        return ErrorClass.TRANSIENT, f"EWS transport error: {exc}"
    return None


class ExchangeProbe:
    """Answers the API's test-connection: a real EWS round trip to the mailbox's inbox."""

    def test_connection(self, connection: MailboxConnection) -> ProbeResult:
        try:
            account = open_account(connection, patient=False)
            inbox = account.inbox
            inbox.refresh()
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the admin
            _kind, reason = classify(exc)
            return ProbeResult(ok=False, detail=f"{connection.mailbox}: {reason}")
        return ProbeResult(
            ok=True, detail=f"connected to {connection.mailbox} at {connection.ews_url}"
        )
