"""Small factories for CRM communications (appointments and tasks) and their links."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models.crm import CommLink, Communication


def communication(db: Session, owner: int | None, **columns: Any) -> int:
    """A communication linked to its owner (a CRM user id), as the CRM would file it."""
    row = Communication(**columns)
    db.add(row)
    db.flush()
    if owner is not None:
        db.add(CommLink(cmli_comm_communicationid=row.comm_communicationid, cmli_comm_userid=owner))
    db.flush()
    return row.comm_communicationid


def appointment(db: Session, owner: int | None, **columns: Any) -> int:
    columns.setdefault("comm_action", "Meeting")
    return communication(db, owner, comm_type="Appointment", **columns)


def task(db: Session, owner: int | None, **columns: Any) -> int:
    columns.setdefault("comm_status", "Pending")
    columns.setdefault("comm_action", "ToDo")
    return communication(db, owner, comm_type="Task", **columns)
