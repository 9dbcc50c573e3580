"""App-only OAuth2 for EWS: a connection's app registration gets its tokens through MSAL.

exchangelib 5.x's OAuth2Credentials fetch tokens from Microsoft's token URL for the Exchange
Online scope, with a client secret only. Hybrid tenants and Exchange SE issue tokens for other
audiences, and certificates are the credential Microsoft recommends. These credentials ask
the connection's authority for `{audience}/.default`, with a secret or a certificate, through
MSAL (which also caches the token until shortly before it expires); exchangelib only sees an
access token, and asks for a fresh one when oauthlib finds it expired.
"""

from __future__ import annotations

from typing import Any

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from exchangelib import OAuth2Credentials
from oauthlib.oauth2 import OAuth2Token

from app.kit import log_redaction
from app.users.connection import OAuthApp
from workers.connectors.ews.transport import TrustingAdapter

# A token is handed to exchangelib as expiring this much before it really does (a third of
# its life at most), so that no request leaves with a token that expires on the way.
_EARLY_SECONDS = 300


class TokenRefused(Exception):
    """The authority gave no token: the app registration, its credential or scope is wrong."""


class AuthorityUnreachable(Exception):
    """The token issuer did not answer; a later run may find it back."""


def _certificate_credential(pem: str) -> dict[str, str]:
    certificate = x509.load_pem_x509_certificate(pem.encode())
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return {
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        # MSAL sends the SHA-1 thumbprint as the assertion's x5t header, as Entra expects.
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex(),  # noqa: S303
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
    }


def _http_client() -> requests.Session:
    session = requests.Session()
    session.mount("https://", TrustingAdapter())
    return session


class AppOnlyCredentials(OAuth2Credentials):  # type: ignore[misc]
    """Client-credentials tokens for one app registration, from its own authority."""

    def __init__(self, app: OAuthApp) -> None:
        super().__init__(client_id=app.client_id, client_secret=None, tenant_id=app.tenant)
        self.app = app
        log_redaction.remember_secret(app.client_secret)
        # Made at the first token request: MSAL reads the authority's OpenID configuration
        # when it starts, and building a configuration must not wait on the network.
        self._msal: msal.ConfidentialClientApplication | None = None

    def _client_application(self) -> msal.ConfidentialClientApplication:
        with self.lock:
            if self._msal is None:
                credential: Any = (
                    self.app.client_secret
                    if self.app.client_secret is not None
                    else _certificate_credential(self.app.client_certificate or "")
                )
                self._msal = msal.ConfidentialClientApplication(
                    self.app.client_id,
                    client_credential=credential,
                    authority=f"{self.app.authority_url}/{self.app.tenant}",
                    # Microsoft's instance discovery knows Microsoft's clouds only; the
                    # authority's own OpenID configuration is read instead, so Exchange SE's
                    # AD FS and other issuers work too.
                    instance_discovery=False,
                    http_client=_http_client(),
                )
            return self._msal

    @property
    def token_url(self) -> str:
        return f"{self.app.authority_url}/{self.app.tenant}/oauth2/v2.0/token"

    @property
    def scope(self) -> list[str]:
        return [f"{self.app.audience}/.default"]

    def session_params(self) -> dict[str, Any]:
        # With a token given, exchangelib builds its session around it and fetches none.
        return {"token": self._fresh_token()}

    def _fresh_token(self) -> OAuth2Token:
        try:
            result = self._client_application().acquire_token_for_client(scopes=self.scope)
        except requests.RequestException as exc:
            raise AuthorityUnreachable(
                f"cannot reach the token issuer {self.app.authority_url}: {type(exc).__name__}"
            ) from exc
        except ValueError as exc:  # MSAL: the authority's OpenID configuration is unusable
            raise TokenRefused(f"{self.app.authority_url}/{self.app.tenant}: {exc}") from exc
        if "access_token" not in result:
            raise TokenRefused(
                f"{self.token_url} gave no token: {result.get('error')}: "
                f"{result.get('error_description')}"
            )
        log_redaction.remember_secret(result["access_token"])
        lifetime = int(result.get("expires_in", 0))
        early = min(_EARLY_SECONDS, lifetime // 3)
        token = OAuth2Token(
            {
                "access_token": result["access_token"],
                "token_type": "Bearer",
                "expires_in": lifetime - early,
            }
        )
        self.on_token_auto_refreshed(token)
        return token

    def refresh(self, session: Any) -> None:
        # The next session asks MSAL again, which serves its cached token or a new one.
        with self.lock:
            self.access_token = None

    # One app registration is one set of credentials, whichever object holds it: exchangelib
    # keys its protocol cache (sessions, connections) on credentials equality.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, AppOnlyCredentials) and other._identity() == self._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def _identity(self) -> tuple[Any, ...]:
        return (AppOnlyCredentials, self.app, getattr(self, "configuration_key", None))

    def __repr__(self) -> str:
        return f"AppOnlyCredentials({self.app.client_id!r}, tenant={self.app.tenant!r})"
