"""Field mappings per entity and the task-status mapping; a built-in default until changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, inspect
from sqlalchemy.orm import Session

from app.kit.errors import InvalidInput
from app.kit.sync_terms import SyncEntity
from app.mappings import repository
from app.mappings.catalog import FIELDS
from app.mappings.schemas import (
    CrmTaskStatus,
    FieldMapping,
    OutlookTaskStatus,
    TaskStatusMapping,
)
from app.models.config import MappingDocument
from app.models.crm import Communication

TASK_STATUS = "task-status"

DEFAULT_TASK_STATUS = TaskStatusMapping(
    to_crm={
        OutlookTaskStatus.NOT_STARTED: CrmTaskStatus.PENDING,
        OutlookTaskStatus.IN_PROGRESS: CrmTaskStatus.IN_PROGRESS,
        OutlookTaskStatus.WAITING_ON_OTHERS: CrmTaskStatus.PENDING,
        OutlookTaskStatus.DEFERRED: CrmTaskStatus.PENDING,
        OutlookTaskStatus.COMPLETED: CrmTaskStatus.COMPLETE,
    },
    to_outlook={
        CrmTaskStatus.PENDING: OutlookTaskStatus.NOT_STARTED,
        CrmTaskStatus.IN_PROGRESS: OutlookTaskStatus.IN_PROGRESS,
        CrmTaskStatus.COMPLETE: OutlookTaskStatus.COMPLETED,
        CrmTaskStatus.CANCELLED: OutlookTaskStatus.NOT_STARTED,
    },
)


def default_mapping(entity: SyncEntity) -> list[FieldMapping]:
    return [FieldMapping(crm=crm, outlook=outlook) for crm, outlook in FIELDS[entity].default]


def get_mapping(db: Session, entity: SyncEntity) -> list[FieldMapping]:
    stored = repository.get_document(db, entity.value)
    if stored is None:
        return default_mapping(entity)
    return [FieldMapping.model_validate(row) for row in stored.document]


def get_task_status_mapping(db: Session) -> TaskStatusMapping:
    stored = repository.get_document(db, TASK_STATUS)
    if stored is None:
        return DEFAULT_TASK_STATUS
    return TaskStatusMapping.model_validate(stored.document)


def text_columns(db: Session, table: str) -> set[str]:
    """The character columns of a CRM table as the database has them, custom ones included."""
    connection = db.connection(bind_arguments={"mapper": Communication})
    return {
        column["name"].lower()
        for column in inspect(connection).get_columns(table)
        if isinstance(column["type"], String)
    }


def _problems(
    entity: SyncEntity, rows: Sequence[FieldMapping], text_columns: set[str]
) -> list[str]:
    fields = FIELDS[entity]
    defaults = {outlook: crm for crm, outlook in fields.default}
    problems: list[str] = []
    crm_rows: dict[str, int] = {}
    outlook_rows: dict[str, int] = {}
    for index, row in enumerate(rows):
        default = defaults.get(row.outlook, row.crm)
        moved = fields.table is not None and row.crm != default
        if moved and row.outlook in fields.movable and row.crm.lower() not in text_columns:
            problems.append(
                f"body.{index}.crm: {row.crm!r} is not a text column of the {fields.table} "
                f"table, where {entity} may keep {row.outlook!r}"
            )
        elif moved and row.outlook in fields.outlook_fields and row.outlook not in fields.movable:
            problems.append(
                f"body.{index}.crm: {entity} keep {row.outlook!r} in {default!r}: its values "
                f"convert, so only {', '.join(fields.movable)} may move to another column"
            )
        elif not moved and row.crm not in fields.crm_paths:
            problems.append(
                f"body.{index}.crm: unknown CRM column {row.crm!r} for {entity}; "
                f"known: {', '.join(fields.crm_paths)}"
            )
        elif row.crm in crm_rows:
            problems.append(
                f"body.{index}.crm: {row.crm!r} is already mapped in row {crm_rows[row.crm]}"
            )
        crm_rows.setdefault(row.crm, index)
        if row.outlook not in fields.outlook_fields:
            problems.append(
                f"body.{index}.outlook: unknown Outlook field {row.outlook!r} for {entity}; "
                f"known: {', '.join(fields.outlook_fields)}"
            )
        elif row.outlook in outlook_rows:
            problems.append(
                f"body.{index}.outlook: {row.outlook!r} is already mapped in row "
                f"{outlook_rows[row.outlook]}"
            )
        outlook_rows.setdefault(row.outlook, index)
    missing = [name for name in fields.required if name not in outlook_rows]
    if missing:
        problems.append(f"body: the {entity} mapping needs the Outlook fields {', '.join(missing)}")
    if fields.required_any and not any(name in outlook_rows for name in fields.required_any):
        problems.append(
            f"body: the {entity} mapping needs at least one of the Outlook fields "
            f"{', '.join(fields.required_any)}"
        )
    return problems


def _store(db: Session, name: str, document: Any) -> None:
    stored = repository.get_document(db, name)
    if stored is None:
        db.add(MappingDocument(name=name, document=document))
    else:
        stored.document = document
    db.flush()


def replace_mapping(
    db: Session, entity: SyncEntity, rows: Sequence[FieldMapping]
) -> list[FieldMapping]:
    table = FIELDS[entity].table
    problems = _problems(entity, rows, text_columns(db, table) if table else set())
    if problems:
        raise InvalidInput("; ".join(problems))
    _store(db, entity.value, [row.model_dump(mode="json") for row in rows])
    return list(rows)


def replace_task_status_mapping(db: Session, mapping: TaskStatusMapping) -> TaskStatusMapping:
    _store(db, TASK_STATUS, mapping.model_dump(mode="json"))
    return mapping


def reset_mapping(db: Session, entity: SyncEntity) -> list[FieldMapping]:
    """Forgets the administrator's mapping, so the built-in default applies again."""
    repository.delete_document(db, entity.value)
    return default_mapping(entity)


def reset_task_status_mapping(db: Session) -> TaskStatusMapping:
    repository.delete_document(db, TASK_STATUS)
    return DEFAULT_TASK_STATUS
