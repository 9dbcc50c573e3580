"""What every `crmsync` subcommand shares."""

from __future__ import annotations

import typer


def fail(message: str) -> typer.Exit:
    """An error line on stderr and exit status 2 (bad input), for `raise fail(...)`."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)
