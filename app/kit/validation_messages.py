"""Pydantic's validation errors as one line an administrator reads in a terminal."""

from __future__ import annotations

from pydantic import ValidationError


def problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
    )
