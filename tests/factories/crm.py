"""Small factories for CRM records."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.crm.flags import flag_person
from app.crm.writer import PersonWriter


def person(db: Session, flagged_for: int | None = None, **values: str | None) -> int:
    """A person with the given CRM-path values (e.g. pers_firstname=…, **{"email.Business": …})."""
    created = PersonWriter(db, flagged_for, create_companies=True).create(values)
    if flagged_for is not None:
        flag_person(db, flagged_for, created.pers_personid)
    db.flush()
    return created.pers_personid
