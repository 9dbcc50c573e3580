"""The `crmsync` command: the composition root of the API, the workers and the scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.config import ConfigurationError, get_settings

cli = typer.Typer(help="crmsync: server-side sync between a Sage CRM database and Exchange.")
db_cli = typer.Typer(help="The database: migrations.")
users_cli = typer.Typer(help="CRM users enabled for synchronization.")
keys_cli = typer.Typer(help="Admin API keys.")
tokens_cli = typer.Typer(help="Per-user API tokens.")
import_cli = typer.Typer(help="Bring contacts into the CRM from files.")
cli.add_typer(db_cli, name="db")
cli.add_typer(users_cli, name="users")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(tokens_cli, name="tokens")
cli.add_typer(import_cli, name="import")

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _alembic_config() -> object:
    from alembic.config import Config

    config = Config(str(_PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_PROJECT_ROOT / "migrations"))
    return config


def upgrade_database(revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(), revision)  # type: ignore[arg-type]


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    upgrade_database(revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Revert migrations down to REVISION ('base' removes everything)."""
    from alembic import command

    command.downgrade(_alembic_config(), revision)  # type: ignore[arg-type]
    typer.echo(f"database at {revision}")


@db_cli.command("create-crm")
def db_create_crm() -> None:
    """Create the CRM tables in a separate CRM database (CRMSYNC_CRM_DATABASE_URL), if missing."""
    from app.db import get_database
    from app.models import Base
    from app.models.crm import CRM_TABLES

    database = get_database()
    Base.metadata.create_all(database.crm_engine, tables=list(CRM_TABLES))
    typer.echo("CRM tables present")


@users_cli.command("add")
def users_add(
    logon: Annotated[str, typer.Option(help="the CRM logon (users.user_logon)")],
    mailbox: Annotated[str, typer.Option(help="the mailbox's SMTP address")],
    ews_url: Annotated[str, typer.Option(help="the EWS endpoint, …/EWS/Exchange.asmx")],
    username: Annotated[str, typer.Option(help="account that signs in to EWS")] = "",
    password: Annotated[str, typer.Option(help="its password")] = "",
    auth: Annotated[str, typer.Option(help="basic, ntlm or noauth")] = "basic",
    impersonation: Annotated[
        bool, typer.Option("--impersonation", help="a service account impersonates the mailbox")
    ] = False,
    first: Annotated[str | None, typer.Option(help="first name of a new CRM user")] = None,
    last: Annotated[str | None, typer.Option(help="last name of a new CRM user")] = None,
) -> None:
    """Enable a CRM user for sync (creating the users row when missing)."""
    from pydantic import ValidationError

    from app.db import unit_of_work
    from app.kit.errors import AppError
    from app.users import service
    from app.users.schemas import SyncUserCreate

    try:
        body = SyncUserCreate.model_validate(
            {
                "logon": logon,
                "first_name": first,
                "last_name": last,
                "mailbox": mailbox,
                "ews_url": ews_url,
                "auth": {
                    "type": auth,
                    "username": username or None,
                    "password": password or None,
                    "impersonation": impersonation,
                },
            }
        )
        with unit_of_work() as db:
            created = service.create_sync_user(db, body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        raise _fail(problems) from None
    except AppError as exc:
        raise _fail(exc.detail) from None
    typer.echo(f"user {created.user_id} ({created.logon}) syncs with {created.mailbox}")


@users_cli.command("list")
def users_list() -> None:
    """List users enabled for sync."""
    from app.db import unit_of_work
    from app.kit.pagination import PageRequest
    from app.users import service

    with unit_of_work() as db:
        cursor: int | None = None
        while True:
            page = service.list_sync_users(db, PageRequest(limit=500, after_id=cursor))
            for user in page.items:
                state = (
                    "suspended" if user.suspended else ("enabled" if user.enabled else "disabled")
                )
                typer.echo(f"{user.user_id}\t{user.logon}\t{user.mailbox}\t{state}\t{user.ews_url}")
            if page.next_cursor is None or not page.items:
                break
            cursor = page.items[-1].user_id


@keys_cli.command("create")
def keys_create(name: Annotated[str, typer.Option(help="a label for the key")] = "") -> None:
    """Create an admin API key; the secret is printed once, alone on the last line."""
    from app.auth import service
    from app.db import unit_of_work

    with unit_of_work() as db:
        secret = service.create_admin_key(db, name=name)
    typer.echo("admin key created; store it now, it is not shown again:")
    typer.echo(secret)


@tokens_cli.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="the CRM logon of the token's user")],
    name: Annotated[str, typer.Option(help="a label for the token")] = "",
) -> None:
    """Create a user token; the secret is printed once, alone on the last line."""
    from app.auth import service
    from app.db import unit_of_work
    from app.kit.errors import AppError

    try:
        with unit_of_work() as db:
            secret = service.create_user_token(db, user, name=name)
    except AppError as exc:
        raise _fail(exc.detail) from None
    typer.echo(f"token created for {user}; store it now, it is not shown again:")
    typer.echo(secret)


@import_cli.command("contacts")
def import_contacts(
    file: Annotated[Path, typer.Argument(help="Outlook's CSV export or a vCard file")],
    user: Annotated[
        str | None, typer.Option("--user", help="flag the imported persons for this CRM logon")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="report what would happen; write nothing")
    ] = False,
    create_companies: Annotated[
        bool, typer.Option("--create-companies", help="create companies the CRM does not have")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="where to write the report (default: FILE.report.csv)")
    ] = None,
) -> None:
    """Import contacts in this process, with a progress bar and a report line per row."""
    from rich.progress import Progress

    from app.db import get_database, unit_of_work
    from app.imports import service
    from app.imports.parsers import ContactFile, UnreadableFile
    from app.kit.errors import AppError
    from app.models.imports import ImportStatus
    from app.users import repository

    database = get_database()
    try:
        source = ContactFile(file)
        with unit_of_work(database) as db:
            crm_user = repository.find_crm_user_by_logon(db, user) if user else None
            if user and crm_user is None:
                raise _fail(f"no CRM user with logon {user!r}")
            options = service.ImportOptions(
                user_id=crm_user.user_userid if crm_user else None,
                dry_run=dry_run,
                create_companies=create_companies,
            )
            import_id = service.create_import(db, source, file.name, options).id
    except UnreadableFile as exc:
        raise _fail(str(exc)) from None
    except AppError as exc:
        raise _fail(exc.detail) from None
    with Progress() as progress:
        bar = progress.add_task("checking" if dry_run else "importing", total=None)
        result = service.run_import(
            database,
            import_id,
            lambda done, total: progress.update(bar, completed=done, total=total),
        )
    assert result is not None  # created above
    report_path = report or file.with_name(f"{file.name}.report.csv")
    with report_path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(service.report_lines(database, import_id))
    for warning in result.warnings:
        typer.echo(f"note: {warning}")
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(result.counts.items()))
    typer.echo(f"import {import_id}: {result.rows_done} rows ({counts or 'none'})")
    typer.echo(f"report: {report_path}")
    if result.status is not ImportStatus.DONE:
        typer.secho(f"error: import failed: {result.error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)


@cli.command("sync")
def sync(user: Annotated[str, typer.Option("--user", help="the CRM logon to synchronize")]) -> None:
    """Synchronize one user in this process, to the end, and print the run's summary."""
    from app.db import unit_of_work
    from app.models.sync import RunStatus
    from app.users import repository
    from workers.locks import user_lock
    from workers.sync.runner import RunRequest, run_user_sync
    from workers.sync.summary import describe_run

    with unit_of_work() as db:
        crm_user = repository.find_crm_user_by_logon(db, user)
        sync_user = repository.get_sync_user(db, crm_user.user_userid) if crm_user else None
        if crm_user is None or sync_user is None:
            raise _fail(f"{user!r} is not a CRM user enabled for sync (see `crmsync users list`)")
        user_id = sync_user.user_id
    with user_lock(user_id) as held:
        if not held:
            raise _fail(f"{user} is being synchronized by another process right now")
        run = run_user_sync(RunRequest(user_id=user_id, trigger="cli"))
    typer.echo(describe_run(run))
    if run.status not in (RunStatus.SUCCESS, RunStatus.SUCCESS_WITH_ERRORS):
        raise typer.Exit(code=1)


@cli.command("demo")
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


@cli.command("worker")
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


@cli.command("beat")
def beat(
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = "INFO",
) -> None:
    """Run the scheduler that queues due synchronizations every minute."""
    schedule = get_settings().data_dir / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    os.execv(
        sys.executable, _celery_argv("beat", f"--schedule={schedule}", f"--loglevel={loglevel}")
    )


def _start_embedded_jobs() -> list[subprocess.Popen[bytes]]:
    schedule = get_settings().data_dir / "celerybeat-schedule"
    return [
        subprocess.Popen(
            _celery_argv("worker", "--pool=threads", "--concurrency=2", "--loglevel=WARNING")
        ),
        subprocess.Popen(_celery_argv("beat", f"--schedule={schedule}", "--loglevel=WARNING")),
    ]


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Serve the API; in the embedded default, also run a worker and the scheduler."""
    import uvicorn

    from app.main import create_app
    from workers.exchange.connection import ExchangeProbe
    from workers.exchange.messages import ExchangeMessages

    settings = get_settings()
    if settings.embedded:
        upgrade_database()
    children = _start_embedded_jobs() if settings.embedded else []
    try:
        app = create_app(mailbox_probe=ExchangeProbe(), mailbox_messages=ExchangeMessages())
        uvicorn.run(app, host=host, port=port)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(timeout=30)


def main() -> None:
    try:
        get_settings()
    except ConfigurationError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    cli()


if __name__ == "__main__":
    main()
