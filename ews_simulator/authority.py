"""What MSAL asks of an authority: the tenant's OpenID configuration and its token endpoint.

Both simulators serve one (EWS for Exchange SE and hybrid tenants, Graph for Exchange Online),
each for its own audience.

Only the client-credentials grant is served, as crmsync uses it: app-only access with a client
secret, or with a signed client assertion (RFC 7523) from a registered certificate, checked
like Entra ID checks it (thumbprint header, signature, audience = the token endpoint, issuer =
subject = the client id, expiry). Access tokens are opaque to clients, so they are random
strings here, accepted until they expire.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

TOKEN_LIFETIME_SECONDS = 3600
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Clients:
    """The app registrations: client id → secret, client id → certificates."""

    secrets: dict[str, str] = field(default_factory=dict)
    certificates: dict[str, list[x509.Certificate]] = field(default_factory=dict)

    def add_certificate(self, client_id: str, pem: bytes) -> None:
        self.certificates.setdefault(client_id, []).append(x509.load_pem_x509_certificate(pem))


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options that register app registrations (both simulators take them)."""
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="an app registration with a client secret (repeatable)",
    )
    parser.add_argument(
        "--client-certificate",
        action="append",
        default=[],
        metavar="ID:PEMFILE",
        help="an app registration's certificate, for client assertions (repeatable)",
    )
    parser.add_argument("--ca-out", type=Path, help="write the generated CA certificate here")


def clients_from_arguments(args: argparse.Namespace) -> Clients:
    """The registrations of `--client` and `--client-certificate`; ValueError or OSError."""
    clients = Clients()
    for spec in args.client:
        client_id, sep, secret = spec.partition(":")
        if not sep or not client_id or not secret:
            raise ValueError(f"--client expects ID:SECRET, got {spec!r}")
        clients.secrets[client_id] = secret
    for spec in args.client_certificate:
        client_id, sep, path = spec.partition(":")
        if not sep or not client_id:
            raise ValueError(f"--client-certificate expects ID:PEMFILE, got {spec!r}")
        clients.add_certificate(client_id, Path(path).read_bytes())
    return clients


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


def openid_configuration(base_url: str, tenant: str) -> dict[str, Any]:
    issuer = f"{base_url}/{tenant}/v2.0"
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/token",
        "jwks_uri": f"{base_url}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "grant_types_supported": ["client_credentials"],
        "tenant_region_scope": "EU",
    }


def _b64url_thumbprint(certificate: x509.Certificate, algorithm: str) -> str:
    der = certificate.public_bytes(serialization.Encoding.DER)
    digest = hashlib.new(algorithm, der).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Authority:
    def __init__(
        self, clients: Clients, audience: str, lifetime_seconds: int = TOKEN_LIFETIME_SECONDS
    ) -> None:
        self.clients = clients
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(
        self, form: dict[str, str], token_endpoint: str, base_url: str | None = None
    ) -> dict[str, Any]:
        """A token for the client, for the authority's audience or the server's own URL."""
        if form.get("grant_type") != "client_credentials":
            raise TokenError(
                400, "unsupported_grant_type", "AADSTS70003: only client_credentials is served."
            )
        client_id = form.get("client_id", "")
        if client_id not in self.clients.secrets and client_id not in self.clients.certificates:
            raise TokenError(
                400, "unauthorized_client", f"AADSTS700016: application {client_id!r} not found."
            )
        scopes = set(form.get("scope", "").split())
        audiences = {self.audience, base_url} if base_url else {self.audience}
        if not scopes & {f"{audience}/.default" for audience in audiences}:
            raise TokenError(
                400,
                "invalid_scope",
                f"AADSTS1002012: the scope must be {self.audience}/.default.",
            )
        if "client_secret" in form:
            expected = self.clients.secrets.get(client_id)
            if expected is None or not hmac.compare_digest(expected, form["client_secret"]):
                raise TokenError(401, "invalid_client", "AADSTS7000215: invalid client secret.")
        elif form.get("client_assertion_type") == CLIENT_ASSERTION_TYPE:
            self._check_assertion(client_id, form.get("client_assertion", ""), token_endpoint)
        else:
            raise TokenError(
                401,
                "invalid_client",
                "AADSTS7000218: a client_secret or client_assertion is needed.",
            )
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (client_id, time.monotonic() + self.lifetime_seconds)
            self.issued += 1
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime_seconds,
            "ext_expires_in": self.lifetime_seconds,
            "access_token": token,
        }

    def _check_assertion(self, client_id: str, assertion: str, token_endpoint: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError as e:
            raise TokenError(401, "invalid_client", f"AADSTS50027: malformed assertion: {e}") from e
        # Thumbprints are base64url, with or without padding depending on the client library.
        sha256 = str(header.get("x5t#S256", "")).rstrip("=")
        sha1 = str(header.get("x5t", "")).rstrip("=")
        for certificate in self.clients.certificates.get(client_id, []):
            if sha256 != _b64url_thumbprint(certificate, "sha256") and sha1 != _b64url_thumbprint(
                certificate, "sha1"
            ):
                continue
            try:
                jwt.decode(
                    assertion,
                    key=certificate.public_key(),  # type: ignore[arg-type]
                    algorithms=["RS256", "PS256"],
                    audience=token_endpoint,
                    issuer=client_id,
                    options={"require": ["exp", "aud", "iss", "sub"]},
                )
            except jwt.InvalidTokenError as e:
                raise TokenError(
                    401, "invalid_client", f"AADSTS700027: assertion rejected: {e}"
                ) from e
            return
        raise TokenError(
            401, "invalid_client", "AADSTS700027: no registered certificate matches the assertion."
        )

    def client_of(self, authorization: str | None) -> str | None:
        """The client a bearer token was issued to, or None if it is missing or expired."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None or entry[1] < time.monotonic():
                self._tokens.pop(token, None)
                return None
            return entry[0]

    def expire_all(self) -> None:
        with self._lock:
            self._tokens.clear()
