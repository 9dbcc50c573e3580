"""Which persons a user flagged for their Outlook (Sage's `user_contacts` rows)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.chunks import chunked
from app.kit.clock import crm_now
from app.models.crm import Person, UserContact, live


def flagged_person_ids(db: Session, user_id: int) -> set[int]:
    return set(
        db.scalars(
            select(UserContact.ucon_personid)
            .join(Person, Person.pers_personid == UserContact.ucon_personid)
            .where(UserContact.ucon_userid == user_id, live(UserContact), live(Person))
        )
    )


def flag_person(db: Session, user_id: int, person_id: int) -> None:
    """Flags the person for the user's Outlook (idempotent)."""
    flag_persons(db, user_id, [person_id])


def flag_persons(db: Session, user_id: int, person_ids: Iterable[int]) -> None:
    """Flags the persons for the user's Outlook (idempotent), a query per 500 persons."""
    ids = sorted(set(person_ids))
    now = crm_now()
    for chunk in chunked(ids):
        flagged = set(
            db.scalars(
                select(UserContact.ucon_personid).where(
                    UserContact.ucon_userid == user_id,
                    UserContact.ucon_personid.in_(chunk),
                    live(UserContact),
                )
            )
        )
        db.add_all(
            UserContact(
                ucon_userid=user_id,
                ucon_personid=person_id,
                created_by=user_id,
                updated_by=user_id,
                updated_date=now,
                timestamp=now,
            )
            for person_id in chunk
            if person_id not in flagged
        )
    db.flush()


def unflag_person(db: Session, user_id: int, person_id: int) -> None:
    now = crm_now()
    for row in db.scalars(
        select(UserContact).where(
            UserContact.ucon_userid == user_id,
            UserContact.ucon_personid == person_id,
            live(UserContact),
        )
    ):
        row.deleted = 1
        row.updated_by = user_id
        row.updated_date = now
        row.timestamp = now
    db.flush()
