"""`crmsync demo`: the main job on the embedded default, start to finish, in one command.

A fresh SQLite CRM with a few companies and people, a simulated Exchange mailbox with contacts
of its own, two synchronization runs with changes on both sides in between, and what each did.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from app.crm.flags import flag_person
from app.crm.writer import PersonWriter
from app.db import unit_of_work
from app.models.crm import Company, Person
from app.users import service as users_service
from app.users.connection import MailboxConnection
from app.users.schemas import SyncUserCreate
from app.users.service import connection_for
from ews_simulator.testing import SimulatorServer
from workers.connectors.ews.demo import count_contacts, edit_a_contact
from workers.connectors.ews.properties import register
from workers.sync.runner import RunRequest, run_user_sync
from workers.sync.summary import describe_run

DEMO_LOGON = "demo"
DEMO_MAILBOX = "demo.user@example.com"
FIRST = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Radia", "Ken")
LAST = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Perlman")
COMPANIES = ("Analytical Engines Ltd", "Bletchley Systems", "Compiler Works", "Graph Theory plc")


def _seed_crm(people: int) -> int:
    rng = random.Random(7)
    with unit_of_work() as db:
        user = users_service.create_sync_user(
            db,
            SyncUserCreate.model_validate(
                {
                    "logon": DEMO_LOGON,
                    "first_name": "Demo",
                    "last_name": "User",
                    "mailbox": DEMO_MAILBOX,
                    "ews_url": "http://127.0.0.1:9/EWS/Exchange.asmx",
                    "auth": {"type": "basic", "username": DEMO_MAILBOX, "password": "demo"},
                }
            ),
        )
        db.add_all(Company(comp_name=name) for name in COMPANIES)
        db.flush()
        writer = PersonWriter(db, user.user_id, create_companies=False)
        for n in range(people):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            person = writer.create(
                {
                    "pers_firstname": first,
                    "pers_lastname": f"{last} {n}",
                    "pers_title": rng.choice(("CTO", "Engineer", "Buyer", "Consultant")),
                    "company.comp_name": rng.choice(COMPANIES),
                    "email.Business": f"{first}.{last}{n}@example.net".lower(),
                    "phone.Business": f"+44 (20) {rng.randint(1000, 9999)} {n:04d}",
                    "address.street": f"{rng.randint(1, 99)} High Street",
                    "address.addr_city": rng.choice(("London", "Leeds", "York")),
                }
            )
            flag_person(db, user.user_id, person.pers_personid)
        return user.user_id


def _point_user_at(user_id: int, ews_url: str) -> None:
    with unit_of_work() as db:
        users_service.get_existing(db, user_id).ews_url = ews_url


def _connection(user_id: int) -> MailboxConnection:
    with unit_of_work() as db:
        return connection_for(users_service.get_existing(db, user_id))


def _change_both_sides(user_id: int, say: Callable[[str], None]) -> None:
    with unit_of_work() as db:
        person = db.query(Person).order_by(Person.pers_personid).first()
        assert person is not None
        PersonWriter(db, user_id, create_companies=False).update(
            person, {"pers_title": "Chief Scientist"}
        )
        say(f"  in the CRM: {person.pers_firstname} {person.pers_lastname} is now Chief Scientist")
    name = edit_a_contact(_connection(user_id))
    say(f"  in Outlook: {name} is now Head of Purchasing, new email address")


def run_demo(say: Callable[[str], None], people: int = 25, outlook_contacts: int = 10) -> bool:
    register()
    say("Seeding the CRM (SQLite) with a demo user, companies and people flagged for Outlook…")
    user_id = _seed_crm(people)
    with SimulatorServer() as sim:
        sim.seed(DEMO_MAILBOX, contacts=outlook_contacts, seed=1)
        say(f"Simulated Exchange at {sim.ews_url}: {outlook_contacts} contacts in the mailbox.")
        _point_user_at(user_id, sim.ews_url)

        say("\nFirst synchronization:")
        first = run_user_sync(RunRequest(user_id=user_id, trigger="demo"))
        say(describe_run(first))

        say("\nChanges on both sides:")
        _change_both_sides(user_id, say)

        sim.clear_stats()
        say("\nIncremental synchronization:")
        second = run_user_sync(RunRequest(user_id=user_id, trigger="demo"))
        say(describe_run(second))
        requests = sim.stats()["requests"]
        say(f"  EWS requests: {sum(requests.values())} ({', '.join(sorted(requests))})")

        say(f"\nThe mailbox now holds {count_contacts(_connection(user_id))} contacts.")
    return all(run.status.value.startswith("Success") for run in (first, second))
