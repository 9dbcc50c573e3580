from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.kit.sync_terms import SyncEntity
from app.models.crm import Communication, Person


class ExclusionOperator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    IN = "in"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"


_COMPARED_WITH_A_STRING = {
    ExclusionOperator.EQUALS,
    ExclusionOperator.NOT_EQUALS,
    ExclusionOperator.CONTAINS,
}


def _columns(model: Any, prefix: str) -> tuple[str, ...]:
    return tuple(c.name for c in model.__table__.columns if c.name.startswith(prefix))


# Rules test columns of the entity's own CRM table, as the engine reads its rows.
EXCLUDABLE_COLUMNS: dict[SyncEntity, tuple[str, ...]] = {
    SyncEntity.CONTACTS: _columns(Person, "pers_"),
    SyncEntity.APPOINTMENTS: _columns(Communication, "comm_"),
    SyncEntity.TASKS: _columns(Communication, "comm_"),
}


class ExclusionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: SyncEntity
    field: str = Field(description="a column of the entity's CRM table: pers_* or comm_*")
    operator: ExclusionOperator
    value: str | list[str] | None = Field(
        default=None,
        validate_default=True,  # a missing value is checked against the operator too
        description="a string; a list for 'in'; none for is_empty/is_not_empty",
    )
    description: str | None = Field(default=None, max_length=500)

    @field_validator("field")
    @classmethod
    def _column_of_the_entity(cls, field: str, info: ValidationInfo) -> str:
        entity = info.data.get("entity")
        if entity is not None and field not in EXCLUDABLE_COLUMNS[entity]:
            raise ValueError(
                f"unknown CRM column {field!r} for {entity}; "
                f"known: {', '.join(EXCLUDABLE_COLUMNS[entity])}"
            )
        return field

    @field_validator("value")
    @classmethod
    def _fits_operator(
        cls, value: str | list[str] | None, info: ValidationInfo
    ) -> str | list[str] | None:
        operator = info.data.get("operator")
        if operator in _COMPARED_WITH_A_STRING and not isinstance(value, str):
            raise ValueError(f"operator {operator} compares with a string value")
        if operator is ExclusionOperator.IN and not (isinstance(value, list) and value):
            raise ValueError("operator 'in' needs a non-empty list of strings")
        if operator in (ExclusionOperator.IS_EMPTY, ExclusionOperator.IS_NOT_EMPTY) and (
            value is not None
        ):
            raise ValueError(f"operator {operator} takes no value")
        return value


class ExclusionRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    entity: SyncEntity
    field: str
    operator: ExclusionOperator
    value: str | list[str] | None
    description: str | None
    created_at: datetime
