"""The connections API's bodies. Secrets (password, client secret, certificate) are write-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.kit.validation import http_url
from app.models.connections import ConnectorKind
from app.models.sync import AuthType

HttpUrl = Annotated[str, AfterValidator(http_url)]
ConnectionName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
Secret = Annotated[str, Field(min_length=1, max_length=16384, description="write-only")]
Pem = Annotated[
    str,
    Field(
        min_length=1,
        max_length=65536,
        description="PEM with the certificate and its unencrypted private key; write-only",
    ),
]
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
MICROSOFT_GRAPH = "https://graph.microsoft.com/v1.0"

# What each EWS auth type uses; everything else must stay empty.
_FIELDS_OF_AUTH = {
    AuthType.BASIC: {"username", "password"},
    AuthType.NTLM: {"username", "password"},
    AuthType.OAUTH2: {"tenant", "client_id", "client_secret", "client_certificate"},
    AuthType.NOAUTH: set(),
}
CREDENTIAL_FIELDS = frozenset().union(*_FIELDS_OF_AUTH.values()) | {
    "authority_url",
    "audience",
    "graph_url",
}


@dataclass(frozen=True)
class ConnectionShape:
    """Which fields a connection has, secrets as presence only: what the rules below judge."""

    connector: ConnectorKind
    ews_url: str | None
    auth: AuthType | None
    present: frozenset[str]


def _graph_problems(shape: ConnectionShape) -> list[str]:
    found = []
    if shape.ews_url is not None:
        found.append("ews_url: a Graph connection has no EWS endpoint (see graph_url)")
    if shape.auth not in (None, AuthType.OAUTH2):
        found.append("auth: a Graph connection signs in with OAuth2 (an app registration)")
    return found


def fields_used(connector: ConnectorKind, auth: AuthType) -> frozenset[str]:
    """The credential fields a connection of this connector and auth type reads."""
    if auth is not AuthType.OAUTH2:
        return frozenset(_FIELDS_OF_AUTH[auth])
    issuer = (
        {"authority_url", "graph_url"}
        if connector is ConnectorKind.GRAPH
        else {
            "authority_url",
            "audience",
        }
    )
    return frozenset(_FIELDS_OF_AUTH[auth] | issuer)


def problems(shape: ConnectionShape) -> list[str]:
    """Why this combination of fields cannot reach a mailbox; empty when it can."""
    found: list[str] = []
    graph = shape.connector is ConnectorKind.GRAPH
    if graph:
        found.extend(_graph_problems(shape))
    elif shape.ews_url is None:
        found.append("ews_url: an EWS connection needs its endpoint, …/EWS/Exchange.asmx")
    auth = AuthType.OAUTH2 if graph else shape.auth or AuthType.BASIC
    used = fields_used(shape.connector, auth)
    for name in sorted((shape.present & CREDENTIAL_FIELDS) - used):
        found.append(f"{name}: not used with auth {auth}")
    if auth in (AuthType.BASIC, AuthType.NTLM):
        found.extend(
            f"{name}: auth {auth} needs the service account's {name}"
            for name in ("username", "password")
            if name not in shape.present
        )
    if auth is AuthType.OAUTH2:
        found.extend(
            f"{name}: auth oauth2 needs the app registration's {name}"
            for name in ("tenant", "client_id")
            if name not in shape.present
        )
        credentials = shape.present & {"client_secret", "client_certificate"}
        if len(credentials) != 1:
            found.append("client_secret, client_certificate: auth oauth2 needs exactly one of them")
        if shape.ews_url is not None and urlsplit(shape.ews_url).scheme != "https":
            found.append("ews_url: OAuth2 bearer tokens travel only over https")
    return found


class ConnectionFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ews_url: HttpUrl | None = Field(default=None, description="…/EWS/Exchange.asmx")
    username: str | None = Field(default=None, min_length=1, max_length=320)
    password: Secret | None = None
    tenant: str | None = Field(default=None, min_length=1, max_length=255)
    client_id: str | None = Field(default=None, min_length=1, max_length=255)
    client_secret: Secret | None = None
    client_certificate: Pem | None = None
    authority_url: HttpUrl | None = Field(
        default=None, description=f"the token issuer's base URL; default {MICROSOFT_AUTHORITY}"
    )
    audience: HttpUrl | None = Field(
        default=None,
        description="the resource tokens are for; default the EWS URL's scheme and host",
    )
    graph_url: HttpUrl | None = Field(
        default=None, description=f"Graph connections: the endpoint; default {MICROSOFT_GRAPH}"
    )
    impersonation: bool | None = None

    def present(self) -> frozenset[str]:
        return frozenset(
            name
            for name in self.model_fields_set & CREDENTIAL_FIELDS
            if getattr(self, name) is not None
        )


class ConnectionCreate(ConnectionFields):
    name: ConnectionName
    connector: ConnectorKind = ConnectorKind.EWS
    auth: AuthType | None = Field(default=None, description="default basic; oauth2 for Graph")

    @model_validator(mode="after")
    def _fields_fit_auth(self) -> Self:
        if self.auth is None:
            graph = self.connector is ConnectorKind.GRAPH
            self.auth = AuthType.OAUTH2 if graph else AuthType.BASIC
        found = problems(ConnectionShape(self.connector, self.ews_url, self.auth, self.present()))
        if found:
            raise ValueError("; ".join(found))
        return self


class ConnectionUpdate(ConnectionFields):
    """Only the fields given change; a secret not given stays as stored."""

    name: ConnectionName | None = None
    auth: AuthType | None = None


class CertificateRead(BaseModel):
    thumbprint: str
    subject: str
    expires_at: datetime


class ConnectionRead(BaseModel):
    id: int
    name: str
    connector: ConnectorKind
    ews_url: str | None
    auth: AuthType | None
    username: str | None
    has_password: bool
    tenant: str | None
    client_id: str | None
    has_client_secret: bool
    certificate: CertificateRead | None
    authority_url: str | None
    audience: str | None
    graph_url: str | None
    impersonation: bool
    users: int
    created_at: datetime
    updated_at: datetime
