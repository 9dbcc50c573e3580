"""Text fields an administrator keeps in another column of the communication table.

Sage lets an administrator map an Outlook text field to another column, a custom one included;
such a column may be unknown to the ORM, so it is read and written by name. The entity's
mapping still reads and writes the field's default column; the value is moved on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import TableClause, column, select, table, update
from sqlalchemy.orm import Session

from app.models.crm import Communication
from workers.sync.core.details import normalize_text
from workers.sync.core.records import Value
from workers.sync.core.values import text

_READ: Mapping[str, Callable[[Any], Value]] = {
    "subject": text,
    "location": text,
    "body": normalize_text,
}
_ID = "comm_communicationid"


@dataclass(frozen=True)
class MovedField:
    field: str  # the Outlook field
    default: str  # the column the entity's mapping reads and writes
    chosen: str  # the column the administrator chose


def _table(names: Sequence[str]) -> TableClause:
    return table(Communication.__tablename__, column(_ID), *(column(name) for name in names))


def read_moved(
    db: Session, moved: Sequence[MovedField], ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The chosen columns' values of the rows, by communication id."""
    if not moved:
        return {}
    comm = _table([m.chosen for m in moved])
    rows = db.execute(
        select(comm).where(comm.c[_ID].in_(ids)), bind_arguments={"mapper": Communication}
    )
    return {row[0]: dict(row._mapping) for row in rows}


def with_moved(
    record: dict[str, Value], moved: Sequence[MovedField], values: Mapping[str, Any]
) -> dict[str, Value]:
    """The record with each moved field read from its chosen column."""
    for m in moved:
        if m.field in record:
            record[m.field] = _READ[m.field](values.get(m.chosen))
    return record


def take_moved(columns: dict[str, Any], moved: Sequence[MovedField]) -> dict[str, Any]:
    """Takes the moved fields' values out of `columns`, keyed by their chosen columns."""
    return {m.chosen: columns.pop(m.default) for m in moved if m.default in columns}


def write_moved(db: Session, comm_id: int, values: Mapping[str, Any]) -> None:
    if values:
        comm = _table(list(values))
        db.execute(
            update(comm).where(comm.c[_ID] == comm_id).values(dict(values)),
            bind_arguments={"mapper": Communication},
        )
