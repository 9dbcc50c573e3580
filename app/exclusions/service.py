"""Exclusion rules: CRM records an administrator keeps from being sent to Outlook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.exclusions import repository
from app.exclusions.schemas import ExclusionCreate, ExclusionOperator, ExclusionRule
from app.kit.errors import NotFound
from app.kit.pagination import Page, PageRequest, make_page
from app.kit.sync_terms import SyncEntity
from app.models.config import Exclusion


def to_rule(row: Exclusion) -> ExclusionRule:
    return ExclusionRule.model_validate(row, from_attributes=True)


def list_rules(db: Session, entity: SyncEntity) -> list[ExclusionRule]:
    """Every rule of an entity, for the engine to test rows with `is_excluded`."""
    rows = repository.list_exclusions(db, entity=entity.value, after_id=None, limit=None)
    return [to_rule(row) for row in rows]


def list_page(db: Session, entity: SyncEntity | None, page: PageRequest) -> Page[ExclusionRule]:
    rows = repository.list_exclusions(
        db,
        entity=entity.value if entity else None,
        after_id=page.after_id,
        limit=page.limit + 1,
    )
    return make_page([to_rule(row) for row in rows], [row.id for row in rows], page)


def create_rule(db: Session, body: ExclusionCreate) -> ExclusionRule:
    row = Exclusion(
        entity=body.entity.value,
        field=body.field,
        operator=body.operator.value,
        value=body.value,
        description=body.description,
    )
    db.add(row)
    db.flush()
    return to_rule(row)


def delete_rule(db: Session, exclusion_id: int) -> None:
    row = repository.get_exclusion(db, exclusion_id)
    if row is None:
        raise NotFound(f"no exclusion rule {exclusion_id}")
    db.delete(row)
    db.flush()


def _text(value: Any) -> str:
    """A column value as compared: None is empty; case and surrounding blanks do not count."""
    return "" if value is None else str(value).strip().casefold()


def _matches(rule: ExclusionRule, row: Mapping[str, Any]) -> bool:
    actual = _text(row.get(rule.field))
    match rule.operator:
        case ExclusionOperator.IS_EMPTY:
            return actual == ""
        case ExclusionOperator.IS_NOT_EMPTY:
            return actual != ""
        case ExclusionOperator.IN:
            return actual in {_text(item) for item in rule.value or ()}
        case ExclusionOperator.EQUALS:
            return actual == _text(rule.value)
        case ExclusionOperator.NOT_EQUALS:
            return actual != _text(rule.value)
        case ExclusionOperator.CONTAINS:
            return _text(rule.value) in actual


def is_excluded(rules: Iterable[ExclusionRule], row: Mapping[str, Any]) -> ExclusionRule | None:
    """The first rule that keeps this CRM row (column name → value) out of Outlook, if any."""
    return next((rule for rule in rules if _matches(rule, row)), None)
