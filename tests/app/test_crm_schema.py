"""The migrated database has every table and column that spec/crm-schema.md names."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import inspect

from app.db import Database
from tests.spec import spec_text

AUDIT_SUFFIXES = ("createdby", "createddate", "updatedby", "updateddate", "timestamp", "deleted")
_TABLE_BULLET = re.compile(r"^- `(?P<table>\w+)` \((?P<prefix>\w+)_\):", re.MULTILINE)


def expected_schema() -> dict[str, set[str]]:
    """Table → columns, read from the spec: each table bullet up to the next one."""
    text = spec_text("crm-schema.md").split("## Tables", 1)[1].split("## Contact fields", 1)[0]
    bullets = list(_TABLE_BULLET.finditer(text))
    schema: dict[str, set[str]] = {}
    for bullet, following in zip(bullets, [*bullets[1:], None], strict=True):
        body = text[bullet.end() : following.start() if following else len(text)]
        prefix = bullet["prefix"]
        columns = {name for name in re.findall(r"`(\w+)`", body) if name.startswith(f"{prefix}_")}
        columns |= {f"{prefix}_{suffix}" for suffix in AUDIT_SUFFIXES}
        schema[bullet["table"]] = columns
    return schema


def test_spec_parses_into_every_documented_table() -> None:
    schema = expected_schema()
    assert len(schema) == 15
    assert "comm_recurrencerule" in schema["communication"]
    assert "addr_address4" in schema["address"]
    assert "cmli_externalemail" in schema["comm_link"]


@pytest.mark.parametrize("table", sorted(expected_schema()))
def test_table_has_every_column_of_the_spec(migrated_database: Database, table: str) -> None:
    inspector = inspect(migrated_database.engine)
    assert inspector.has_table(table), f"table {table} is missing"
    actual = {column["name"] for column in inspector.get_columns(table)}
    missing = expected_schema()[table] - actual
    assert not missing, f"{table} lacks {sorted(missing)}"


def test_primary_keys_are_generated_integers(migrated_database: Database) -> None:
    inspector = inspect(migrated_database.engine)
    for table in expected_schema():
        primary = inspector.get_pk_constraint(table)["constrained_columns"]
        assert len(primary) == 1 and primary[0].endswith("id"), (table, primary)
        column = next(c for c in inspector.get_columns(table) if c["name"] == primary[0])
        assert column["autoincrement"] is True or column.get("default"), (table, column)


def test_case_insensitive_lookups_are_indexed(migrated_database: Database) -> None:
    from sqlalchemy import text

    with migrated_database.engine.connect() as connection:
        names = set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())
    assert {"ix_email_lower_emailaddress", "ix_person_lower_lastname"} <= names
