"""Counters kept in the database, so that the API reports what every worker counted."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import ServiceTable


class StoredCounter(ServiceTable):
    """One Prometheus counter sample: a metric and its labels (`name=value,…`, sorted).

    Incremented in the transaction that records what it counts (e.g. a finished run), so it
    survives the worker that counted it and never counts twice.
    """

    __tablename__ = "crmsync_counter"

    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    labels: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
