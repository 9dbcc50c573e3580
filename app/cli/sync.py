"""`crmsync sync`: one user's synchronization in this process."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import fail


def sync(user: Annotated[str, typer.Option("--user", help="the CRM logon to synchronize")]) -> None:
    """Synchronize one user in this process, to the end, and print the run's summary."""
    from app.db import unit_of_work
    from app.kit.sync_terms import RunStatus
    from app.users import repository
    from workers.locks import user_lock
    from workers.sync.runner import RunRequest, run_user_sync
    from workers.sync.summary import describe_run

    with unit_of_work() as db:
        crm_user = repository.find_crm_user_by_logon(db, user)
        sync_user = repository.get_sync_user(db, crm_user.user_userid) if crm_user else None
        if crm_user is None or sync_user is None:
            raise fail(f"{user!r} is not a CRM user enabled for sync (see `crmsync users list`)")
        user_id = sync_user.user_id
    with user_lock(user_id) as held:
        if not held:
            raise fail(f"{user} is being synchronized by another process right now")
        run = run_user_sync(RunRequest(user_id=user_id, trigger="cli"))
    typer.echo(describe_run(run))
    if run.status not in (RunStatus.SUCCESS, RunStatus.SUCCESS_WITH_ERRORS):
        raise typer.Exit(code=1)
