"""One synchronization run of one user: load, plan, apply, record."""

from __future__ import annotations

from dataclasses import dataclass

from app.db import unit_of_work
from app.models.sync import RunStatus
from app.runs.schemas import RunRead
from app.runs.service import to_read
from app.users import repository as users_repository
from workers.sync.recording import finish_run, start_run


class UnknownSyncUser(LookupError):
    pass


@dataclass(frozen=True)
class RunRequest:
    user_id: int
    run_id: int | None = None
    trigger: str = "manual"


def run_user_sync(request: RunRequest) -> RunRead:
    with unit_of_work() as db:
        user = users_repository.get_sync_user(db, request.user_id)
        if user is None:
            raise UnknownSyncUser(f"no sync user {request.user_id}")
        run = start_run(db, request.user_id, request.run_id, request.trigger)
    with unit_of_work() as db:
        run = db.merge(run)
        finish_run(run, RunStatus.SUCCESS, counts={}, message="nothing to synchronize yet")
        return to_read(run)
