"""Mailbox connections: create, read, change, delete and test; the secrets stay encrypted."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from app.config import get_settings
from app.connections import certificates, repository
from app.connections.schemas import (
    CREDENTIAL_FIELDS,
    MICROSOFT_AUTHORITY,
    MICROSOFT_GRAPH,
    CertificateRead,
    ConnectionCreate,
    ConnectionRead,
    ConnectionShape,
    ConnectionUpdate,
    fields_used,
    problems,
)
from app.kit.crypto import default_secret_box
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.models.connections import Connection, ConnectorKind
from app.models.sync import AuthType
from app.users.connection import MailboxConnection, MailboxProbe, OAuthApp
from app.users.schemas import ConnectionTestRead

# Where each write-only field is kept (encrypted), and the plain columns of the others.
_SECRET_COLUMNS = {
    "password": "secret_encrypted",
    "client_secret": "secret_encrypted",
    "client_certificate": "certificate_encrypted",
}
_PLAIN_COLUMNS = ("username", "tenant", "client_id", "authority_url", "audience", "graph_url")


def _certificate(row: Connection) -> CertificateRead | None:
    if row.certificate_encrypted is None:
        return None
    info = certificates.describe(default_secret_box().decrypt(row.certificate_encrypted))
    return CertificateRead(
        thumbprint=info.thumbprint, subject=info.subject, expires_at=info.expires_at
    )


def to_read(row: Connection, users: int) -> ConnectionRead:
    has_secret = row.secret_encrypted is not None
    return ConnectionRead(
        id=row.id,
        name=row.name,
        connector=row.connector,
        ews_url=row.ews_url,
        auth=row.auth_type,
        username=row.username,
        has_password=has_secret and row.auth_type in (AuthType.BASIC, AuthType.NTLM),
        tenant=row.tenant,
        client_id=row.client_id,
        has_client_secret=has_secret and row.auth_type is AuthType.OAUTH2,
        certificate=_certificate(row),
        authority_url=row.authority_url,
        audience=row.audience,
        graph_url=row.graph_url,
        impersonation=row.impersonation,
        users=users,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_certificate(pem: str | None) -> None:
    if pem is None:
        return
    try:
        certificates.describe(pem)
    except ValueError as exc:
        raise InvalidInput(f"body.client_certificate: {exc}") from None


def _check_name_free(db: Session, name: str, own_id: int | None) -> None:
    holder = repository.find_by_name(db, name)
    if holder is not None and holder.id != own_id:
        raise Conflict(f"a connection named {holder.name!r} exists already")


def _write_field(row: Connection, name: str, value: str | None) -> None:
    column = _SECRET_COLUMNS.get(name)
    if column is None:
        setattr(row, name, value)
        return
    setattr(row, column, default_secret_box().encrypt(value) if value is not None else None)


def _stored_fields(row: Connection) -> frozenset[str]:
    present = {name for name in _PLAIN_COLUMNS if getattr(row, name) is not None}
    if row.secret_encrypted is not None:
        present.add("client_secret" if row.auth_type is AuthType.OAUTH2 else "password")
    if row.certificate_encrypted is not None:
        present.add("client_certificate")
    return frozenset(present)


def create_connection(db: Session, body: ConnectionCreate) -> ConnectionRead:
    _check_name_free(db, body.name, None)
    _check_certificate(body.client_certificate)
    row = Connection(
        name=body.name,
        connector=body.connector,
        ews_url=body.ews_url,
        auth_type=body.auth,
        impersonation=bool(body.impersonation),
    )
    for name in body.present():
        _write_field(row, name, getattr(body, name))
    db.add(row)
    db.flush()
    return to_read(row, 0)


def get_existing(db: Session, name: str) -> Connection:
    row = repository.find_by_name(db, name)
    if row is None:
        raise NotFound(f"no connection named {name!r}")
    return row


def read_connection(db: Session, name: str) -> ConnectionRead:
    row = get_existing(db, name)
    return to_read(row, repository.user_counts(db, [row.id]).get(row.id, 0))


def list_connections(db: Session, page: PageRequest) -> Page[ConnectionRead]:
    rows = repository.list_connections(db, page.after_id, page.limit + 1)
    counts = repository.user_counts(db, [row.id for row in rows])
    return make_page(
        [to_read(row, counts.get(row.id, 0)) for row in rows], [row.id for row in rows], page
    )


def update_connection(db: Session, name: str, body: ConnectionUpdate) -> ConnectionRead:
    row = get_existing(db, name)
    given = body.model_fields_set
    if body.name is not None:
        _check_name_free(db, body.name, row.id)
        row.name = body.name
    _check_certificate(body.client_certificate)
    auth = body.auth or row.auth_type
    stored = _stored_fields(row)
    if body.auth is not None and body.auth != row.auth_type:
        # Credentials the new auth type does not use go: they would never be used again
        # (Basic and NTLM both keep the account; a password never becomes a client secret).
        kept = fields_used(row.connector, body.auth)
        for stale in stored - given - kept:
            _write_field(row, stale, None)
        stored &= kept
    present = (stored - given) | body.present()
    ews_url = body.ews_url if "ews_url" in given else row.ews_url
    found = problems(ConnectionShape(row.connector, ews_url, auth, present))
    if found:
        raise InvalidInput("body: " + "; ".join(found))
    row.auth_type = auth
    row.ews_url = ews_url
    for field_name in given & CREDENTIAL_FIELDS:
        _write_field(row, field_name, getattr(body, field_name))
    if body.impersonation is not None:
        row.impersonation = body.impersonation
    db.flush()
    return to_read(row, repository.user_counts(db, [row.id]).get(row.id, 0))


def delete_connection(db: Session, name: str) -> None:
    row = get_existing(db, name)
    users = repository.user_counts(db, [row.id]).get(row.id, 0)
    if users:
        raise Conflict(
            f"connection {row.name!r} still serves {users} user(s); move or remove them first"
        )
    db.delete(row)
    db.flush()


def switch_connection(db: Session, name: str, to: str) -> int:
    """Moves every user of connection `name` to connection `to`; returns how many moved.

    Between connectors (EWS ↔ Graph) item ids and sync states mean nothing to the other side,
    so the users' links and folder states go: their next run lists both sides whole and pairs
    the items by the CRM id crmsync stamped on them (the same property on both connectors),
    then by the first-sync matching rules, without creating duplicates.
    """
    source, target = get_existing(db, name), get_existing(db, to)
    if source.id == target.id:
        raise InvalidInput(f"--to names the same connection {source.name!r}")
    moved = repository.user_ids(db, source.id)
    repository.move_users(db, source.id, target.id)
    if source.connector is not target.connector:
        repository.forget_mailbox_state(db, moved)
    db.flush()
    db.expire_all()
    return len(moved)


def _decrypted(value: bytes | None) -> str | None:
    return default_secret_box().decrypt(value) if value is not None else None


def _default_audience(ews_url: str) -> str:
    parts = urlsplit(ews_url)
    return f"{parts.scheme}://{parts.netloc}"


def _graph_connection(row: Connection, mailbox: str) -> MailboxConnection:
    assert row.tenant is not None and row.client_id is not None  # enforced on every write
    graph_url = (row.graph_url or MICROSOFT_GRAPH).rstrip("/")
    oauth_app = OAuthApp(
        tenant=row.tenant,
        client_id=row.client_id,
        client_secret=_decrypted(row.secret_encrypted),
        client_certificate=_decrypted(row.certificate_encrypted),
        authority_url=(row.authority_url or MICROSOFT_AUTHORITY).rstrip("/"),
        audience=_default_audience(graph_url),
    )
    return MailboxConnection(
        mailbox=mailbox,
        ews_url=None,
        auth_type=AuthType.OAUTH2,
        username=None,
        secret=None,
        impersonation=False,
        timeout_seconds=get_settings().ews_timeout_seconds,
        oauth_app=oauth_app,
        graph_url=graph_url,
    )


def mailbox_connection(row: Connection, mailbox: str) -> MailboxConnection:
    """How to reach `mailbox` through this connection, secrets decrypted for the connector."""
    if row.connector is ConnectorKind.GRAPH:
        return _graph_connection(row, mailbox)
    assert row.ews_url is not None and row.auth_type is not None  # enforced on every write
    oauth_app = None
    if row.auth_type is AuthType.OAUTH2:
        assert row.tenant is not None and row.client_id is not None
        oauth_app = OAuthApp(
            tenant=row.tenant,
            client_id=row.client_id,
            client_secret=_decrypted(row.secret_encrypted),
            client_certificate=_decrypted(row.certificate_encrypted),
            authority_url=(row.authority_url or MICROSOFT_AUTHORITY).rstrip("/"),
            audience=(row.audience or _default_audience(row.ews_url)).rstrip("/"),
        )
    return MailboxConnection(
        mailbox=mailbox,
        ews_url=row.ews_url,
        auth_type=row.auth_type,
        username=row.username,
        secret=None if oauth_app else _decrypted(row.secret_encrypted),
        impersonation=row.impersonation,
        timeout_seconds=get_settings().ews_timeout_seconds,
        oauth_app=oauth_app,
    )


def test_connection(
    db: Session, name: str, probe: MailboxProbe, mailbox: str | None
) -> ConnectionTestRead:
    """A real round trip to `mailbox`, or to the first user's mailbox of the connection."""
    row = get_existing(db, name)
    target = mailbox or repository.first_mailbox(db, row.id)
    if target is None and row.auth_type in (AuthType.BASIC, AuthType.NTLM):
        target = row.username if row.username and "@" in row.username else None
    if target is None:
        return ConnectionTestRead(
            ok=False, detail="no mailbox to try: name one (?mailbox=…) or add a user first"
        )
    result = probe.test_connection(mailbox_connection(row, target))
    return ConnectionTestRead(ok=result.ok, detail=result.detail)
