"""Sync users: CRM users enabled for synchronization, with their mailbox connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.connections import repository as connections_repository
from app.connections import service as connections_service
from app.kit.crypto import default_secret_box
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.models.crm import User
from app.models.sync import FolderState, SyncLink, SyncUser
from app.users import repository
from app.users.connection import MailboxConnection, MailboxProbe
from app.users.schemas import (
    AuthRead,
    AuthWrite,
    ConnectionTestRead,
    SyncUserCreate,
    SyncUserRead,
    SyncUserUpdate,
    UserHealth,
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


def to_read(user: SyncUser, crm_user: User | None, health: UserHealth) -> SyncUserRead:
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
        status=health,
        next_sync_at=user.next_sync_at,
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
    """Enables a CRM user for sync (the API and the CLI check the connection first)."""
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
    return read_sync_user(db, user.user_id)


def check_new_connection(db: Session, body: SyncUserCreate, probe: MailboxProbe) -> None:
    """Signs in to the new user's mailbox; refuses the user when that does not work."""
    if body.connection is not None:
        shared = connections_repository.find_by_name(db, body.connection)
        if shared is None:
            raise InvalidInput(f"body.connection: no connection named {body.connection!r}")
        connection = connections_service.mailbox_connection(shared, body.mailbox)
    else:
        assert body.ews_url is not None and body.auth is not None  # the schema's check
        connection = MailboxConnection(
            mailbox=body.mailbox,
            ews_url=body.ews_url,
            auth_type=body.auth.type,
            username=body.auth.username,
            secret=body.auth.secret,
            impersonation=body.auth.impersonation,
            timeout_seconds=get_settings().ews_timeout_seconds,
        )
    result = probe.test_connection(connection)
    if not result.ok:
        raise InvalidInput(
            f"the mailbox connection does not work, nothing was saved: {result.detail} "
            "(check_connection: false saves it unchecked)"
        )


def get_existing(db: Session, user_id: int) -> SyncUser:
    user = repository.get_sync_user(db, user_id)
    if user is None:
        raise NotFound(f"no sync user {user_id}")
    return user


def ensure_syncing(user: SyncUser) -> None:
    """Refuses a manual run of a user whose synchronization is stopped (?force=true overrides)."""
    if user.suspended:
        raise Conflict(
            f"user {user.user_id} is suspended ({user.suspended_reason}); resume it, "
            "or sync once with ?force=true"
        )
    if not user.enabled:
        raise Conflict(f"user {user.user_id} is disabled; enable it, or sync once with ?force=true")


def read_sync_user(db: Session, user_id: int) -> SyncUserRead:
    found = repository.sync_users_with_health(db, user_id=user_id)
    if not found:
        raise NotFound(f"no sync user {user_id}")
    user, health = found[0]
    return to_read(user, repository.get_crm_user(db, user_id), health)


def list_sync_users(
    db: Session,
    page: PageRequest,
    *,
    logon: str | None = None,
    health: UserHealth | None = None,
) -> Page[SyncUserRead]:
    user_id: int | None = None
    if logon is not None:
        crm_user = repository.find_crm_user_by_logon(db, logon)
        if crm_user is None:
            return Page(items=[], next_cursor=None)
        user_id = crm_user.user_userid
    rows = repository.sync_users_with_health(
        db, user_id=user_id, health=health, after_id=page.after_id, limit=page.limit + 1
    )
    crm_users = repository.crm_users_by_id(db, [u.user_id for u, _ in rows])
    return make_page(
        [to_read(u, crm_users.get(u.user_id), health) for u, health in rows],
        [u.user_id for u, _ in rows],
        page,
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
    return read_sync_user(db, user_id)


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


@dataclass(frozen=True)
class Removal:
    user_id: int
    links: int
    folder_states: int


def delete_sync_user(db: Session, user_id: int) -> Removal:
    """Forgets the user's sync: its links, sync states, runs, log and conflicts go with it.

    The CRM `users` row, the CRM records and the mailbox's items stay as they are.
    """
    user = get_existing(db, user_id)
    removal = Removal(
        user_id=user_id,
        links=db.scalar(select(func.count()).where(SyncLink.user_id == user_id)) or 0,
        folder_states=db.scalar(select(func.count()).where(FolderState.user_id == user_id)) or 0,
    )
    # The database cascades the user's rows (every foreign key to it is ON DELETE CASCADE).
    db.delete(user)
    db.flush()
    return removal


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
