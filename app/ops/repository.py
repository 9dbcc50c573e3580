from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.kit.sync_terms import RunStatus
from app.models.sync import Alert, SyncRun, SyncUser
from app.ops import counters
from app.ops.counters import Sample


@dataclass(frozen=True)
class SyncBacklog:
    runs_in_progress: int
    runs_queued: int
    oldest_queued_at: datetime | None
    users_suspended: int
    alerts_open: int
    counters: list[Sample]


def sync_backlog(db: Session) -> SyncBacklog:
    # Queued and Running runs are few among the runs kept; the status index finds them.
    active = {
        status: (count, oldest)
        for status, count, oldest in db.execute(
            select(SyncRun.status, func.count(), func.min(SyncRun.queued_at))
            .where(SyncRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
            .group_by(SyncRun.status)
        )
    }
    queued, oldest_queued_at = active.get(RunStatus.QUEUED, (0, None))
    running, _ = active.get(RunStatus.RUNNING, (0, None))
    suspended = db.scalar(
        select(func.count()).select_from(SyncUser).where(SyncUser.suspended.is_(True))
    )
    alerts = db.scalar(
        select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None))
    )
    return SyncBacklog(
        runs_in_progress=running,
        runs_queued=queued,
        oldest_queued_at=oldest_queued_at,
        users_suspended=suspended or 0,
        alerts_open=alerts or 0,
        counters=counters.read_all(db),
    )
