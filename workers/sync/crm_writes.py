"""What every CRM side shares: each write runs in its own savepoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.orm import Session

_P = ParamSpec("_P")
_R = TypeVar("_R")


class HasSession(Protocol):
    @property
    def db(self) -> Session: ...


_S = TypeVar("_S", bound=HasSession)


def in_savepoint(
    write: Callable[Concatenate[_S, _P], _R],
) -> Callable[Concatenate[_S, _P], _R]:
    """Runs a CRM side's write in a savepoint: one failed item must not abort the batch's
    transaction, which the executor commits together with the links."""

    def wrapper(side: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with side.db.begin_nested():
            return write(side, *args, **kwargs)

    return wrapper
