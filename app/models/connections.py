"""Mailbox connections: an organization's endpoint and service credentials, held once.

Users who reference a connection carry no credentials of their own; rotating the service
account's password or the app's secret is one update, whatever the number of users.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.clock import utc_now
from app.models.base import ServiceTable, StrEnumType, UtcDateTime, utc_timestamp_column
from app.models.sync import AuthType


class ConnectorKind(StrEnum):
    EWS = "ews"
    GRAPH = "graph"  # Exchange Online through Microsoft Graph


class Connection(ServiceTable):
    """Where an organization's mailboxes live and how crmsync signs in to them."""

    __tablename__ = "crmsync_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    connector: Mapped[ConnectorKind] = mapped_column(StrEnumType(ConnectorKind, 16), nullable=False)
    ews_url: Mapped[str | None] = mapped_column(String(2048))
    # Graph connections: the Graph endpoint (default Microsoft's public cloud).
    graph_url: Mapped[str | None] = mapped_column(String(2048))
    auth_type: Mapped[AuthType | None] = mapped_column(StrEnumType(AuthType, 16))
    # Basic and NTLM: the service account.
    username: Mapped[str | None] = mapped_column(String(320))
    # The service account's password or the app's client secret, Fernet-encrypted with
    # CRMSYNC_SECRET_KEY.
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # OAuth2 app-only credentials: the app registration in the tenant.
    tenant: Mapped[str | None] = mapped_column(String(255))
    client_id: Mapped[str | None] = mapped_column(String(255))
    # The app's certificate and its private key (PEM), Fernet-encrypted like the secret.
    certificate_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    authority_url: Mapped[str | None] = mapped_column(String(2048))
    # The resource the token is for; by default the EWS URL's scheme and host.
    audience: Mapped[str | None] = mapped_column(String(2048))
    impersonation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = utc_timestamp_column()
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utc_now, onupdate=utc_now, nullable=False
    )
