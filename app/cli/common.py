"""What every `crmsync` subcommand shares."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

# A secret's file: secrets never travel in arguments, which the process list shows to anyone.
SecretFile = Annotated[
    Path | None, typer.Option(metavar="FILE", help="read the secret from FILE, - for stdin")
]


def fail(message: str) -> typer.Exit:
    """An error line on stderr and exit status 2 (bad input), for `raise fail(...)`."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def read_secret_file(path: Path | None, option: str) -> str | None:
    """The secret in `path` (`-`: standard input), without its trailing newline."""
    if path is None:
        return None
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{option}: cannot read {path}: {exc}") from None
    # Editors and `echo` end files with a newline that is no part of the secret.
    secret = text.strip()
    if not secret:
        raise fail(f"{option}: {path} is empty")
    return secret
