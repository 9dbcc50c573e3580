"""Declarative base and the Sage CRM audit-column conventions."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import DateTime, Dialect, Integer, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app.kit.clock import crm_now, utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite forgets the zone of what it stores)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("crmsync's own timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A string column that reads back as its enum's member, so `is` and `match` work on it.

    A plain String column hands back `str`, which equals the member but is not it: code that
    tested `auth_type is AuthType.OAUTH2` on a loaded row silently took the Basic branch.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime()}


class CrmTable(Base):
    """A table of the CRM database, with Sage CRM's audit columns.

    Every CRM table carries `<prefix>_createdby … <prefix>_deleted`; the Python attributes are
    the same on every table (`created_by`, `updated_date`, `deleted`, …) so the sync engine can
    treat them alike, while the column names stay exactly Sage CRM's.
    """

    __abstract__ = True
    crm_prefix: ClassVar[str]

    @declared_attr
    def created_by(cls) -> Mapped[int | None]:
        return mapped_column(f"{cls.crm_prefix}_createdby", Integer)

    @declared_attr
    def created_date(cls) -> Mapped[datetime | None]:
        return mapped_column(f"{cls.crm_prefix}_createddate", DateTime, default=crm_now)

    @declared_attr
    def updated_by(cls) -> Mapped[int | None]:
        return mapped_column(f"{cls.crm_prefix}_updatedby", Integer)

    @declared_attr
    def updated_date(cls) -> Mapped[datetime | None]:
        return mapped_column(
            f"{cls.crm_prefix}_updateddate", DateTime, default=crm_now, onupdate=crm_now, index=True
        )

    @declared_attr
    def timestamp(cls) -> Mapped[datetime | None]:
        return mapped_column(
            f"{cls.crm_prefix}_timestamp", DateTime, default=crm_now, onupdate=crm_now
        )

    @declared_attr
    def deleted(cls) -> Mapped[int | None]:
        return mapped_column(f"{cls.crm_prefix}_deleted", Integer)

    @property
    def is_live(self) -> bool:
        return not self.deleted


class ServiceTable(Base):
    """A table of crmsync's own, in the service database."""

    __abstract__ = True


def utc_timestamp_column() -> Mapped[datetime]:
    return mapped_column(UtcDateTime, default=utc_now, nullable=False)
