"""`crmsync sync`: one user's synchronization in this process, with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.common import fail

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class ProgressBars:
    """One bar per entity: its phase, and the actions applied of those planned."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.bars: dict[str, TaskID] = {}

    def __call__(self, snapshot: dict[str, dict[str, Any]]) -> None:
        for entity, figures in snapshot.items():
            bar = self.bars.get(entity)
            if bar is None:
                bar = self.bars[entity] = self.progress.add_task(entity, total=None)
            planned = figures["planned"] or None
            self.progress.update(
                bar,
                description=f"{entity}: {figures['phase']}, {figures['listed']} changes listed",
                completed=figures["applied"],
                total=planned if figures["phase"] != "done" else max(figures["applied"], 1),
            )
            if figures["phase"] == "done" and not figures["planned"]:
                self.progress.update(bar, completed=1)


@contextmanager
def progress_bars() -> Iterator[ProgressBars]:
    """Bars on the terminal; nothing when stderr is not one (logs, pipes, tests)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
    ) as progress:
        yield ProgressBars(progress)


def sync(user: Annotated[str, typer.Option("--user", help="the CRM logon to synchronize")]) -> None:
    """Synchronize one user in this process, to the end, and print the run's summary.

    A suspended or disabled user is synchronized too: this command is an explicit request.
    """
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
        with progress_bars() as bars:
            run = run_user_sync(RunRequest(user_id=user_id, trigger="cli", on_progress=bars))
    typer.echo(describe_run(run))
    if run.status not in (RunStatus.SUCCESS, RunStatus.SUCCESS_WITH_ERRORS):
        raise typer.Exit(code=1)
