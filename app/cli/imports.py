"""`crmsync import`: contacts into the CRM from Outlook CSV and vCard files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail

import_cli = typer.Typer(help="Bring contacts into the CRM from files.")


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
                raise fail(f"no CRM user with logon {user!r}")
            options = service.ImportOptions(
                user_id=crm_user.user_userid if crm_user else None,
                dry_run=dry_run,
                create_companies=create_companies,
            )
            import_id = service.create_import(db, source, file.name, options).id
    except UnreadableFile as exc:
        raise fail(str(exc)) from None
    except AppError as exc:
        raise fail(exc.detail) from None
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
