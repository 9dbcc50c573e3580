"""`crmsync serve`, `worker`, `beat` and `demo`: the processes of the service."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from app.cli.supervisor import Supervisor
from app.config import get_settings
from app.migrate import upgrade_database


def demo(
    people: Annotated[int, typer.Option(help="CRM persons to seed")] = 25,
    contacts: Annotated[int, typer.Option(help="Outlook contacts to seed")] = 10,
) -> None:
    """Show the main job: a seeded CRM, a simulated mailbox, and two synchronizations."""
    import shutil

    settings = get_settings()
    demo_dir = settings.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    # The demo keeps to a directory of its own, so it never touches real embedded data.
    os.environ["CRMSYNC_DATA_DIR"] = str(demo_dir)
    for variable in ("CRMSYNC_DATABASE_URL", "CRMSYNC_CRM_DATABASE_URL", "CRMSYNC_BROKER_URL"):
        os.environ.pop(variable, None)
    _forget_cached_configuration()
    upgrade_database()

    from workers.demo import run_demo

    typer.echo(f"crmsync demo (data in {demo_dir})")
    if not run_demo(typer.echo, people=people, outlook_contacts=contacts):
        raise typer.Exit(code=1)


def _forget_cached_configuration() -> None:
    from app.db import get_database
    from app.kit.crypto import default_secret_box

    for cached in (get_settings, get_database, default_secret_box):
        cached.cache_clear()


def _celery_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.celery_app", *args]


def worker(
    concurrency: Annotated[int, typer.Option(help="parallel sync jobs")] = 2,
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = "INFO",
) -> None:
    """Run a Celery worker that executes sync jobs."""
    os.execv(
        sys.executable,
        _celery_argv(
            "worker", f"--concurrency={concurrency}", "--pool=threads", f"--loglevel={loglevel}"
        ),
    )


def beat(
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = "INFO",
) -> None:
    """Run the scheduler that queues due synchronizations every minute."""
    schedule = get_settings().data_dir / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    os.execv(
        sys.executable, _celery_argv("beat", f"--schedule={schedule}", f"--loglevel={loglevel}")
    )


def _embedded_jobs() -> dict[str, list[str]]:
    schedule = get_settings().data_dir / "celerybeat-schedule"
    return {
        "Celery worker": _celery_argv(
            "worker", "--pool=threads", "--concurrency=2", "--loglevel=WARNING"
        ),
        "scheduler (Celery beat)": _celery_argv(
            "beat", f"--schedule={schedule}", "--loglevel=WARNING"
        ),
    }


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Serve the API; in the embedded default, also run a worker and the scheduler."""
    import uvicorn

    from app.main import create_app
    from workers.connectors.dispatch import ConnectorMessages, ConnectorProbe

    app = create_app(mailbox_probe=ConnectorProbe(), mailbox_messages=ConnectorMessages())
    # X-Forwarded-For is read by the app, from CRMSYNC_TRUSTED_PROXIES only (uvicorn would
    # trust it from any loopback peer): tests/hardening/test_server_limits.py.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, proxy_headers=False))
    failures: list[str] = []

    def stop_serving(signum: int, frame: FrameType | None) -> None:
        # uvicorn handles these signals while it serves; this covers start-up and shutdown.
        server.should_exit = True

    def child_died(message: str) -> None:
        failures.append(message)
        server.should_exit = True

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop_serving)
    settings = get_settings()
    if settings.embedded:
        upgrade_database()
    jobs = Supervisor(_embedded_jobs() if settings.embedded else {})
    try:
        if not server.should_exit:  # no stop was asked for while migrating
            jobs.start(on_death=child_died)
            server.run()
    finally:
        for note in jobs.stop():
            typer.secho(f"warning: {note}", fg=typer.colors.YELLOW, err=True)
    if failures:
        typer.secho(
            f"error: {failures[0]}; crmsync serve stopped the API and the other processes",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1)
