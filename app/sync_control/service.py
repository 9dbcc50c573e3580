"""Operating a user's sync: status, suspend, resume, reset, failures and alerts, log retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.kit.clock import utc_now
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.kit.sync_terms import RunStatus
from app.models.sync import ACTIONABLE_LEVELS, Alert, ItemFailure, RunEntry, SkippedItem, SyncUser
from app.runs import service as runs_service
from app.runs.schemas import EntryRead, RunQueued
from app.sync_control import repository
from app.sync_control.schemas import AlertRead, SyncState, UserStatus
from app.sync_settings.service import effective_settings
from app.users import service as users_service

# After this many consecutive permanent failures a user's sync is suspended until resumed.
SUSPEND_AFTER_FAILURES = 3
# Exchange refusing the credentials this many times in a row raises an alert at once: a
# changed password is the commonest cause, and an administrator can fix it before suspension.
ALERT_AFTER_AUTHENTICATION_FAILURES = 2

_ACTIVE = {RunStatus.QUEUED: SyncState.WAITING, RunStatus.RUNNING: SyncState.IN_PROGRESS}


def user_status(db: Session, user_id: int) -> UserStatus:
    user = users_service.get_existing(db, user_id)
    runs = repository.latest_runs(db, user_id, limit=5)
    active = next((r for r in runs if r.status in _ACTIVE), None)
    finished = next((r for r in runs if r.status not in _ACTIVE), None)
    if not user.enabled:
        state = SyncState.DISABLED
    elif user.suspended:
        state = SyncState.SUSPENDED
    elif active is not None:
        state = _ACTIVE[RunStatus(active.status)]
    else:
        state = SyncState.IDLE
    return UserStatus(
        user_id=user_id,
        state=state,
        suspended_reason=user.suspended_reason,
        consecutive_failures=user.consecutive_failures,
        last_run=runs_service.to_read(finished) if finished else None,
        next_sync_at=user.next_sync_at,
        open_errors=repository.count_open_errors(db, user_id),
        open_conflicts=repository.count_open_conflicts(db, user_id),
    )


def suspend(db: Session, user_id: int, reason: str) -> UserStatus:
    user = users_service.get_existing(db, user_id)
    user.suspended = True
    user.suspended_reason = reason
    db.flush()
    return user_status(db, user_id)


def resume(db: Session, user_id: int) -> UserStatus:
    user = users_service.get_existing(db, user_id)
    user.suspended = False
    user.suspended_reason = None
    user.consecutive_failures = 0
    user.next_sync_at = utc_now()
    for alert in db.scalars(
        select(Alert).where(Alert.user_id == user_id, Alert.acknowledged_at.is_(None))
    ):
        alert.acknowledged_at = utc_now()
    db.flush()
    return user_status(db, user_id)


def reset(db: Session, user_id: int) -> RunQueued:
    """Forgets links and sync states: the next run compares everything and relinks it.

    First-sync matching and the CRM ids stamped on Exchange items keep it from duplicating.
    """
    user = users_service.get_existing(db, user_id)
    if user.suspended:
        raise Conflict(f"user {user_id} is suspended; resume it before resetting")
    repository.forget_sync_state(db, user_id)
    run = runs_service.queue_run(db, user_id, trigger="reset")
    return RunQueued(run_id=run.id)


def record_success(db: Session, user_id: int) -> None:
    user = db.get(SyncUser, user_id)
    if user is not None:
        user.consecutive_failures = 0


def record_permanent_failure(
    db: Session, user_id: int, reason: str, *, authentication: bool = False
) -> bool:
    """Counts a failure that retrying cannot fix; returns True when it suspended the user.

    `suspended_reason` is set only with `suspended`, so the two always agree; the failure's
    own message stays on its run.
    """
    user = db.get(SyncUser, user_id)
    if user is None:
        return False
    user.consecutive_failures += 1
    if authentication and user.consecutive_failures >= ALERT_AFTER_AUTHENTICATION_FAILURES:
        _raise_once(
            db,
            user_id,
            "authentication_failed",
            f"Exchange refused the credentials of user {user_id} "
            f"{user.consecutive_failures} times in a row: {reason}; update them "
            f"(PATCH /api/v1/users/{user_id})",
        )
    if user.consecutive_failures < SUSPEND_AFTER_FAILURES or user.suspended:
        return False
    user.suspended = True
    user.suspended_reason = reason
    db.add(
        Alert(
            user_id=user_id,
            kind="sync_suspended",
            message=(
                f"synchronization of user {user_id} suspended after "
                f"{user.consecutive_failures} consecutive failures: {reason}"
            ),
        )
    )
    db.flush()
    return True


def _raise_once(db: Session, user_id: int, kind: str, message: str) -> None:
    """An alert of this kind for the user, unless one is still unacknowledged."""
    open_alert = db.scalar(
        select(Alert.id).where(
            Alert.user_id == user_id, Alert.kind == kind, Alert.acknowledged_at.is_(None)
        )
    )
    if open_alert is None:
        db.add(Alert(user_id=user_id, kind=kind, message=message))
        db.flush()


def list_alerts(
    db: Session, *, user_id: int | None, open_only: bool, page: PageRequest
) -> Page[AlertRead]:
    alerts = repository.list_alerts(
        db, user_id=user_id, open_only=open_only, after_id=page.after_id, limit=page.limit + 1
    )
    return make_page(
        [AlertRead.model_validate(a, from_attributes=True) for a in alerts],
        [a.id for a in alerts],
        page,
    )


def acknowledge_alert(db: Session, alert_id: int) -> AlertRead:
    alert = db.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    alert.acknowledged_at = alert.acknowledged_at or utc_now()
    db.flush()
    return AlertRead.model_validate(alert, from_attributes=True)


def _visible_entry(db: Session, principal: Principal, entry_id: int) -> RunEntry:
    entry = db.get(RunEntry, entry_id)
    if entry is None or (not principal.is_admin and entry.user_id != principal.user_id):
        raise NotFound(f"no log entry {entry_id}")
    return entry


def _actionable_entry(db: Session, principal: Principal, entry_id: int) -> RunEntry:
    entry = _visible_entry(db, principal, entry_id)
    if entry.level not in ACTIONABLE_LEVELS:
        raise Conflict(f"log entry {entry_id} is informational ({entry.level}): nothing to act on")
    return entry


def retry_entry(db: Session, principal: Principal, entry_id: int) -> RunQueued:
    """Retries the entry's item: a failed item kept its sync state back, so a run redoes it."""
    entry = _actionable_entry(db, principal, entry_id)
    if entry.entity is not None:
        db.execute(
            delete(SkippedItem).where(
                SkippedItem.user_id == entry.user_id,
                SkippedItem.entity == entry.entity,
                SkippedItem.crm_id == (entry.crm_id or ""),
                SkippedItem.remote_id == (entry.remote_id or ""),
            )
        )
        # A held item is read again on this run, for one more attempt.
        db.execute(
            update(ItemFailure)
            .where(
                ItemFailure.user_id == entry.user_id,
                ItemFailure.entity == entry.entity,
                ItemFailure.crm_id == (entry.crm_id or ""),
                ItemFailure.remote_id == (entry.remote_id or ""),
            )
            .values(held=False, retry_at=utc_now())
        )
    entry.state = "retried"
    run = runs_service.queue_run(db, entry.user_id, trigger="retry")
    return RunQueued(run_id=run.id)


def skip_entry(db: Session, principal: Principal, entry_id: int) -> EntryRead:
    """Leaves the entry's item out of every later run, until the entry is retried."""
    entry = _actionable_entry(db, principal, entry_id)
    if entry.entity is None or not (entry.crm_id or entry.remote_id):
        raise Conflict(f"log entry {entry_id} names no item to skip")
    exists = db.scalar(
        select(SkippedItem.id).where(
            SkippedItem.user_id == entry.user_id,
            SkippedItem.entity == entry.entity,
            SkippedItem.crm_id == (entry.crm_id or ""),
            SkippedItem.remote_id == (entry.remote_id or ""),
        )
    )
    if exists is None:
        db.add(
            SkippedItem(
                user_id=entry.user_id,
                entity=entry.entity,
                crm_id=entry.crm_id or "",
                remote_id=entry.remote_id or "",
            )
        )
    entry.state = "skipped"
    db.flush()
    return runs_service.entry_to_read(entry)


def purge_old_logs(db: Session, now: datetime) -> int:
    """Deletes runs and their entries older than each user's log retention setting."""
    purged = 0
    for user_id in db.scalars(select(SyncUser.user_id)):
        days = effective_settings(db, user_id).log_retention_days
        purged += repository.purge_runs_before(db, user_id, now - timedelta(days=days))
    return purged
