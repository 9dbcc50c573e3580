"""Enums whose values the API accepts in any letter case."""

from __future__ import annotations

from enum import StrEnum


class CaseInsensitiveEnum(StrEnum):
    """`status=success with ERRORS` reads as "Success with errors"; the value stays as spelled.

    Query filters and bodies are typed by hand; values stored and returned keep the contract's
    spelling.
    """

    @classmethod
    def _missing_(cls, value: object) -> CaseInsensitiveEnum | None:
        if isinstance(value, str):
            folded = value.casefold()
            for member in cls:
                if member.value.casefold() == folded:
                    return member
        return None
