"""docs/crm-schema.md describes the CRM tables exactly as the models and migrations make them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, DateTime, Integer, String, inspect, text
from sqlalchemy.types import TypeEngine

from app.db import Database
from app.models.crm import CRM_TABLES

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "crm-schema.md"
AUDIT_COLUMNS = {
    "createdby": "integer",
    "createddate": "datetime",
    "updatedby": "integer",
    "updateddate": "datetime",
    "timestamp": "datetime",
    "deleted": "integer",
}
_TABLE_HEADING = re.compile(r"^### `(?P<table>\w+)` \((?P<prefix>\w+)_\)$", re.MULTILINE)
_COLUMN_ROW = re.compile(r"^\| `(?P<column>\w+)` \| (?P<type>[\w()]+) \|", re.MULTILINE)


def documented_schema() -> dict[str, dict[str, str]]:
    """Table → column → documented type, from each table's heading and its table of columns."""
    text_ = SCHEMA_DOC.read_text().split("## Tables", 1)[1].split("## Contact fields", 1)[0]
    headings = list(_TABLE_HEADING.finditer(text_))
    schema: dict[str, dict[str, str]] = {}
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        body = text_[heading.end() : following.start() if following else len(text_)]
        prefix = heading["prefix"]
        columns = {row["column"]: row["type"] for row in _COLUMN_ROW.finditer(body)}
        columns |= {f"{prefix}_{suffix}": kind for suffix, kind in AUDIT_COLUMNS.items()}
        schema[heading["table"]] = columns
    return schema


def _documented_type(column_type: TypeEngine[object]) -> str:
    if isinstance(column_type, BigInteger):
        return "bigint"
    if isinstance(column_type, Integer):
        return "integer"
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, String) and column_type.length is not None:
        return f"varchar({column_type.length})"
    if isinstance(column_type, String):
        return "text"
    raise AssertionError(f"no documented name for {column_type!r}")


def test_the_document_parses_into_every_table() -> None:
    schema = documented_schema()
    assert len(schema) == 15
    assert schema["communication"]["comm_recurrencerule"] == "text"
    assert schema["address"]["addr_address4"] == "varchar(255)"
    assert "cmli_externalemail" in schema["comm_link"]


def test_the_document_lists_every_column_of_the_models_with_its_type() -> None:
    from_models = {
        table.name: {column.name: _documented_type(column.type) for column in table.columns}
        for table in CRM_TABLES
    }
    assert documented_schema() == from_models


@pytest.mark.parametrize("table", sorted(documented_schema()))
def test_the_migrated_table_has_every_documented_column(
    migrated_database: Database, table: str
) -> None:
    inspector = inspect(migrated_database.engine)
    assert inspector.has_table(table), f"table {table} is missing"
    actual = {column["name"]: column["type"] for column in inspector.get_columns(table)}
    documented = documented_schema()[table]
    missing = set(documented) - set(actual)
    assert not missing, f"{table} lacks {sorted(missing)}"
    wrong = {
        name: (kind, _documented_type(actual[name]))
        for name, kind in documented.items()
        if _documented_type(actual[name]) != kind
    }
    assert not wrong, f"{table}: documented type, migrated type: {wrong}"


def test_primary_keys_are_generated_integers(migrated_database: Database) -> None:
    inspector = inspect(migrated_database.engine)
    for table in documented_schema():
        primary = inspector.get_pk_constraint(table)["constrained_columns"]
        assert len(primary) == 1 and primary[0].endswith("id"), (table, primary)
        column = next(c for c in inspector.get_columns(table) if c["name"] == primary[0])
        assert column["autoincrement"] is True or column.get("default"), (table, column)


def test_case_insensitive_lookups_are_indexed(migrated_database: Database) -> None:
    with migrated_database.engine.connect() as connection:
        names = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
    assert {"ix_email_lower_emailaddress", "ix_person_lower_lastname"} <= names
