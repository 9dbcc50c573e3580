"""Pydantic's validation errors as one line an administrator reads in a terminal."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError


def problems(exc: ValidationError, names: Mapping[str, str] | None = None) -> str:
    """`names` renames fields for the reader, e.g. a CLI's own flags ("ews_url" → "--ews-url")."""
    names = names or {}
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        lines.append(f"{names.get(location, location or 'input')}: {error['msg']}")
    return "; ".join(lines)
