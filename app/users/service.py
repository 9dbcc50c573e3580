"""Sync users: CRM users enabled for synchronization, with their mailbox connection."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.config import get_settings
from app.connections import repository as connections_repository
from app.connections import service as connections_service
from app.kit.crypto import default_secret_box
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.models.crm import User
from app.models.sync import SyncUser
from app.users import repository
from app.users.connection import MailboxConnection, MailboxProbe
from app.users.schemas import (
    AuthRead,
    AuthWrite,
    ConnectionTestRead,
    SyncUserCreate,
    SyncUserRead,
    SyncUserUpdate,
)


def _own_auth(user: SyncUser) -> AuthRead | None:
    if user.auth_type is None:
        return None
    return AuthRead(
        type=user.auth_type,
        username=user.username,
        impersonation=user.impersonation,
        has_secret=user.secret_encrypted is not None,
    )


def to_read(user: SyncUser, crm_user: User | None) -> SyncUserRead:
    connection = user.connection
    return SyncUserRead(
        user_id=user.user_id,
        logon=crm_user.user_logon if crm_user else None,
        mailbox=user.mailbox,
        connection=connection.name if connection else None,
        ews_url=connection.ews_url if connection else user.ews_url,
        auth=_own_auth(user),
        enabled=user.enabled,
        suspended=user.suspended,
        suspended_reason=user.suspended_reason,
        timezone=user.timezone,
        show_install_button=user.show_install_button,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def _ensure_crm_user(db: Session, body: SyncUserCreate) -> User:
    if body.user_id is not None:
        user = repository.get_crm_user(db, body.user_id)
        if user is None or not user.is_live:
            raise InvalidInput(f"body.user_id: no CRM user {body.user_id}")
        if body.logon is not None and user.user_logon.lower() != body.logon.lower():
            raise InvalidInput(
                f"body.logon: user {body.user_id} has logon {user.user_logon!r}, not {body.logon!r}"
            )
        return user
    assert body.logon is not None  # the schema requires user_id or logon
    user = repository.find_crm_user_by_logon(db, body.logon)
    if user is None:
        user = User(
            user_logon=body.logon,
            user_firstname=body.first_name,
            user_lastname=body.last_name,
            user_emailaddress=body.mailbox,
        )
        db.add(user)
        db.flush()
    return user


def _apply_auth(user: SyncUser, auth: AuthWrite | None) -> None:
    user.auth_type = auth.type if auth else None
    user.username = auth.username if auth else None
    user.impersonation = auth.impersonation if auth else False
    secret = auth.secret if auth else None
    user.secret_encrypted = default_secret_box().encrypt(secret) if secret else None


def _join_connection(db: Session, user: SyncUser, name: str) -> None:
    """The user reaches their mailbox through the connection; their own credentials go."""
    connection = connections_repository.find_by_name(db, name)
    if connection is None:
        raise InvalidInput(f"body.connection: no connection named {name!r}")
    user.connection = connection
    user.ews_url = None
    _apply_auth(user, None)


def _check_mailbox_free(db: Session, mailbox: str, user_id: int | None) -> None:
    holder = repository.find_sync_user_by_mailbox(db, mailbox)
    if holder is not None and holder.user_id != user_id:
        raise Conflict(f"mailbox {mailbox} is already synchronized for user {holder.user_id}")


def create_sync_user(db: Session, body: SyncUserCreate) -> SyncUserRead:
    crm_user = _ensure_crm_user(db, body)
    if repository.get_sync_user(db, crm_user.user_userid) is not None:
        raise Conflict(
            f"user {crm_user.user_userid} ({crm_user.user_logon}) is already enabled for sync"
        )
    _check_mailbox_free(db, body.mailbox, None)
    user = SyncUser(
        user_id=crm_user.user_userid,
        mailbox=body.mailbox,
        ews_url=body.ews_url,
        enabled=body.enabled,
        timezone=body.timezone,
        show_install_button=body.show_install_button,
    )
    if body.connection is not None:
        _join_connection(db, user, body.connection)
    else:
        _apply_auth(user, body.auth)
    db.add(user)
    db.flush()
    return to_read(user, crm_user)


def get_existing(db: Session, user_id: int) -> SyncUser:
    user = repository.get_sync_user(db, user_id)
    if user is None:
        raise NotFound(f"no sync user {user_id}")
    return user


def read_sync_user(db: Session, user_id: int) -> SyncUserRead:
    return to_read(get_existing(db, user_id), repository.get_crm_user(db, user_id))


def list_sync_users(db: Session, page: PageRequest) -> Page[SyncUserRead]:
    users = repository.list_sync_users(db, page.after_id, page.limit + 1)
    crm_users = repository.crm_users_by_id(db, [u.user_id for u in users])
    return make_page(
        [to_read(u, crm_users.get(u.user_id)) for u in users], [u.user_id for u in users], page
    )


def update_sync_user(db: Session, user_id: int, body: SyncUserUpdate) -> SyncUserRead:
    user = get_existing(db, user_id)
    if body.mailbox is not None:
        _check_mailbox_free(db, body.mailbox, user_id)
        user.mailbox = body.mailbox
    _update_endpoint(db, user, body)
    if body.enabled is not None:
        user.enabled = body.enabled
    if "timezone" in body.model_fields_set:
        user.timezone = body.timezone
    if body.show_install_button is not None:
        user.show_install_button = body.show_install_button
    db.flush()
    return to_read(user, repository.get_crm_user(db, user_id))


def _update_endpoint(db: Session, user: SyncUser, body: SyncUserUpdate) -> None:
    own = body.ews_url is not None or body.auth is not None
    if body.connection is not None:
        if own:
            raise InvalidInput("body: give connection, or ews_url and auth, not both")
        _join_connection(db, user, body.connection)
        return
    if not own:
        return
    if user.connection is not None and (body.ews_url is None or body.auth is None):
        raise InvalidInput(
            "body: a user leaving their connection needs both ews_url and auth of their own"
        )
    user.connection = None
    if body.ews_url is not None:
        user.ews_url = body.ews_url
    if body.auth is not None:
        _apply_auth(user, body.auth)


def delete_sync_user(db: Session, user_id: int) -> None:
    """Stops synchronizing the user; the CRM `users` row and its data stay."""
    db.delete(get_existing(db, user_id))
    db.flush()


def connection_for(user: SyncUser) -> MailboxConnection:
    if user.connection is not None:
        return connections_service.mailbox_connection(user.connection, user.mailbox)
    assert user.ews_url is not None and user.auth_type is not None  # the table's check
    secret = default_secret_box().decrypt(user.secret_encrypted) if user.secret_encrypted else None
    return MailboxConnection(
        mailbox=user.mailbox,
        ews_url=user.ews_url,
        auth_type=user.auth_type,
        username=user.username,
        secret=secret,
        impersonation=user.impersonation,
        timeout_seconds=get_settings().ews_timeout_seconds,
    )


def test_connection(db: Session, user_id: int, probe: MailboxProbe) -> ConnectionTestRead:
    result = probe.test_connection(connection_for(get_existing(db, user_id)))
    return ConnectionTestRead(ok=result.ok, detail=result.detail)
