"""The floor of contact sync, beside crmsync's figures for the same work (issue 18).

The floor is the least a sync engine must do, written with the bare client in one process:

* first sync of N flagged CRM persons (each with an e-mail address and a phone): one SELECT of
  the rows, `bulk_create` of N contacts in batches of 100 carrying the CRM id in an extended
  property, one SyncFolderItems pass to take the folder's state;
* incremental run after 10 CRM and 10 Outlook changes: SyncFolderItems from the saved state,
  a SELECT of the CRM rows changed since the watermark, `bulk_update` of the 10 contacts the
  CRM changed and one UPDATE per Outlook change.

Both run on one simulator (two mailboxes) and one database, start-up excluded; each figure is
the median of `--repeat` runs on fresh data. Prints the figures and their ratios; asserts
nothing.

    .venv/bin/python bench/floor.py [--persons 2000] [--repeat 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.support import AGE_MINUTES, age_crm_rows, create_bench_user, scratch_database

CRMSYNC_MAILBOX = "crmsync@example.com"
FLOOR_MAILBOX = "floor@example.com"
CHANGES = 10


@dataclass(frozen=True)
class Measure:
    seconds: float
    requests: int


@dataclass(frozen=True)
class Trial:
    first: Measure
    incremental: Measure


def _median(trials: list[Trial], pick: Callable[[Trial], Measure]) -> Measure:
    return Measure(
        statistics.median(pick(t).seconds for t in trials),
        round(statistics.median(pick(t).requests for t in trials)),
    )


def _seed_persons(user_id: int, persons: int, tag: str) -> None:
    from app.crm.people import PersonWriter, flag_persons
    from app.db import unit_of_work

    with unit_of_work() as db:
        writer = PersonWriter(db, user_id, create_companies=True)
        created = writer.create_many(
            [
                {
                    "pers_firstname": f"First{n}",
                    "pers_lastname": f"{tag}{n}",
                    "pers_title": "Engineer",
                    "email.Business": f"{tag.lower()}{n}@crm.example.com",
                    "phone.Business": f"+44 (20) {n:08d}",
                }
                for n in range(persons)
            ]
        )
        flag_persons(db, user_id, [person.pers_personid for person in created])


def _change_crm_persons(tag: str) -> None:
    """The CRM side of the 10+10 changes, as a CRM user makes them (audit columns set)."""
    from sqlalchemy import select

    from app.crm.people import PersonWriter
    from app.db import unit_of_work
    from app.models.crm import Person

    with unit_of_work() as db:
        writer = PersonWriter(db, None, create_companies=False)
        query = (
            select(Person)
            .where(Person.pers_lastname.like(f"{tag}%"))
            .order_by(Person.pers_personid)
            .limit(CHANGES)
        )
        for person in db.scalars(query):
            writer.update(person, {"pers_title": "Changed in the CRM"})


def _change_outlook_contacts(account: Any) -> None:
    for contact in account.contacts.all().order_by("surname")[:CHANGES]:
        contact.job_title = "Changed in Outlook"
        contact.save(update_fields=["job_title"])


class Floor:
    """The bare client: exchangelib and one SQL statement per read, nothing else."""

    _SELECT = """
        SELECT p.pers_personid, p.pers_firstname, p.pers_lastname, p.pers_title,
               e.emai_emailaddress, ph.phon_number
        FROM usercontacts u
        JOIN person p ON p.pers_personid = u.ucon_personid AND p.pers_deleted IS NULL
        LEFT JOIN emaillink el ON el.elink_recordid = p.pers_personid
             AND el.elink_entityid = 13 AND el.elink_deleted IS NULL
        LEFT JOIN email e ON e.emai_emailid = el.elink_emailid
        LEFT JOIN phonelink pl ON pl.plink_recordid = p.pers_personid
             AND pl.plink_entityid = 13 AND pl.plink_deleted IS NULL
        LEFT JOIN phone ph ON ph.phon_phoneid = pl.plink_phoneid
        WHERE u.ucon_userid = :user_id AND u.ucon_deleted IS NULL
    """

    def __init__(self, account: Any, user_id: int) -> None:
        from exchangelib import Contact
        from exchangelib.extended_properties import ExtendedProperty

        class FloorCrmId(ExtendedProperty):  # type: ignore[misc]
            property_set_id = "9a7b6f40-8e6f-4a63-9f5e-3f0f4a1f7c01"
            property_name = "FloorCrmId"
            property_type = "String"

        if "floor_crm_id" not in {f.name for f in Contact.FIELDS}:
            Contact.register("floor_crm_id", FloorCrmId)
        self.account = account
        self.user_id = user_id
        self.sync_state: str | None = None
        self.watermark: Any = None
        self.remote_by_crm_id: dict[str, tuple[str, str]] = {}

    def _rows(self, changed_since: Any = None) -> list[Any]:
        from sqlalchemy import text

        from app.db import get_database

        sql = self._SELECT
        params: dict[str, Any] = {"user_id": self.user_id}
        if changed_since is not None:
            sql += " AND p.pers_updateddate > :since"
            params["since"] = changed_since
        with get_database().engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def _contact(self, row: Any) -> Any:
        from exchangelib import Contact
        from exchangelib.indexed_properties import EmailAddress, PhoneNumber

        return Contact(
            folder=self.account.contacts,
            display_name=f"{row.pers_firstname} {row.pers_lastname}",
            given_name=row.pers_firstname,
            surname=row.pers_lastname,
            job_title=row.pers_title,
            email_addresses=[EmailAddress(label="EmailAddress1", email=row.emai_emailaddress)],
            phone_numbers=[PhoneNumber(label="BusinessPhone", phone_number=row.phon_number)],
            floor_crm_id=str(row.pers_personid),
        )

    def _take_state(self) -> list[Any]:
        changed = []
        for change_type, item in self.account.contacts.sync_items(
            sync_state=self.sync_state,
            only_fields=["job_title", "floor_crm_id"],
            max_changes_returned=512,
        ):
            changed.append((change_type, item))
        self.sync_state = self.account.contacts.item_sync_state
        return changed

    def first_sync(self) -> None:
        from app.kit.clock import crm_now

        self.watermark = crm_now()
        rows = self._rows()
        created = self.account.bulk_create(
            folder=self.account.contacts, items=[self._contact(r) for r in rows], chunk_size=100
        )
        for row, result in zip(rows, created, strict=True):
            self.remote_by_crm_id[str(row.pers_personid)] = (result.id, result.changekey)
        self._take_state()

    def incremental(self) -> None:
        from sqlalchemy import text

        from app.db import get_database
        from app.kit.clock import crm_now

        outlook_changes = self._take_state()
        for _, item in outlook_changes:  # their change keys moved: updates must name the new
            if getattr(item, "floor_crm_id", None):
                self.remote_by_crm_id[item.floor_crm_id] = (item.id, item.changekey)
        since, self.watermark = self.watermark, crm_now()
        changed_rows = self._rows(changed_since=since)
        updates = []
        for row in changed_rows:
            item = self._contact(row)
            item.id, item.changekey = self.remote_by_crm_id[str(row.pers_personid)]
            updates.append((item, ["job_title"]))
        if updates:
            self.account.bulk_update(items=updates, chunk_size=100)
        with get_database().engine.begin() as connection:
            for _, item in outlook_changes:
                if getattr(item, "floor_crm_id", None):
                    connection.execute(
                        text("UPDATE person SET pers_title = :title WHERE pers_personid = :id"),
                        {"title": item.job_title, "id": int(item.floor_crm_id)},
                    )


def trial(sim: Any, persons: int, number: int) -> tuple[Trial, Trial]:
    """One fresh round: crmsync and the floor, each a first sync and an incremental run."""
    from app.db import get_database
    from bench.support import outlook_account
    from workers.sync.runner import RunRequest, run_user_sync

    sim.reset()
    crmsync_user = create_bench_user(sim.ews_url, CRMSYNC_MAILBOX, logon=f"crmsync{number}")
    floor_user = create_bench_user(sim.ews_url, FLOOR_MAILBOX, logon=f"floor{number}")
    _seed_persons(crmsync_user, persons, f"Crmsync{number}x")
    _seed_persons(floor_user, persons, f"Floor{number}x")
    floor = Floor(outlook_account(sim.ews_url, FLOOR_MAILBOX), floor_user)

    def measured(work: Callable[[], Any]) -> Measure:
        sim.clear_stats()
        began = time.perf_counter()
        work()
        seconds = time.perf_counter() - began
        return Measure(seconds, sum(sim.stats()["requests"].values()))

    def crmsync_run() -> None:
        run_user_sync(RunRequest(user_id=crmsync_user, trigger="bench"))

    crmsync_first = measured(crmsync_run)
    floor_first = measured(floor.first_sync)
    age_crm_rows(get_database())
    # The floor's watermark moves with the rows it aged, as crmsync's stored one does.
    floor.watermark -= timedelta(minutes=AGE_MINUTES)
    for tag, mailbox in (
        (f"Crmsync{number}x", CRMSYNC_MAILBOX),
        (f"Floor{number}x", FLOOR_MAILBOX),
    ):
        _change_crm_persons(tag)
        _change_outlook_contacts(outlook_account(sim.ews_url, mailbox))
    crmsync_incremental = measured(crmsync_run)
    floor_incremental = measured(floor.incremental)
    return Trial(crmsync_first, crmsync_incremental), Trial(floor_first, floor_incremental)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with scratch_database(args.database_url):
        from app.migrate import upgrade_database
        from bench.report import Report
        from ews_simulator.testing import SimulatorServer

        upgrade_database()
        crmsync_trials, floor_trials = [], []
        with SimulatorServer() as sim:
            for number in range(args.repeat):
                crmsync_trial, floor_trial = trial(sim, args.persons, number)
                crmsync_trials.append(crmsync_trial)
                floor_trials.append(floor_trial)
        report = Report(f"contacts floor, {args.persons} persons")
        for label, pick, time_target in (
            ("first sync", lambda t: t.first, 1.2),
            (f"incremental ({CHANGES}+{CHANGES})", lambda t: t.incremental, 1.5),
        ):
            ours, floor = _median(crmsync_trials, pick), _median(floor_trials, pick)
            ratio = ours.seconds / floor.seconds
            print(
                f"{label}: crmsync {ours.seconds:.2f} s, {ours.requests} EWS requests; "
                f"floor {floor.seconds:.2f} s, {floor.requests} requests; "
                f"time {ratio:.2f}x (target <= {time_target}x), "
                f"requests {ours.requests}/{floor.requests}"
            )
            report.add(
                f"{label} time / floor", f"{ratio:.2f}x", f"<= {time_target}x", ratio <= time_target
            )
            report.add(f"{label} EWS requests", f"{ours.requests} / floor {floor.requests}")
        report.save()


if __name__ == "__main__":
    main()
