"""Tasks over Microsoft Graph (To Do) end to end: the CRM id in a linked resource, statuses
through the admin's mapping in both directions and kept where To Do cannot tell them apart."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.models.crm import Communication
from app.models.sync import RunStatus
from graph_simulator.store import Item
from tests.e2e.conftest import GraphUser
from tests.factories.communications import task


def counts(run: Any) -> dict[str, dict[str, int]]:
    return dict(run.counts.get("tasks", {}))


def todo(user: GraphUser) -> list[Item]:
    (default,) = [f for f in user.box.todo_lists.values() if f.well_known == "defaultList"]
    return list(default.items.values())


@pytest.mark.parametrize(
    ("crm_status", "graph_status"),
    [
        ("Pending", "notStarted"),
        ("In Progress", "inProgress"),
        ("Complete", "completed"),
        ("Cancelled", "notStarted"),
    ],
)
def test_crm_tasks_reach_to_do_and_stay(
    db: Session, graph_user: GraphUser, crm_status: str, graph_status: str
) -> None:
    comm_id = task(db, graph_user.user_id, comm_subject="Call back", comm_status=crm_status)
    db.commit()
    run = graph_user.sync()
    assert run.status == RunStatus.SUCCESS, run
    (created,) = todo(graph_user)
    assert (created.data["title"], created.data["status"]) == ("Call back", graph_status)
    assert created.data["linkedResources"][0]["externalId"] == str(comm_id)
    assert created.data["linkedResources"][0]["applicationName"] == "crmsync"
    assert counts(graph_user.sync()) == {}
    row = db.get(Communication, comm_id)
    assert row is not None and row.comm_status == crm_status  # Cancelled is not flip-flopped


@pytest.mark.parametrize(
    ("graph_status", "crm_status"),
    [("inProgress", "In Progress"), ("waitingOnOthers", "Pending"), ("completed", "Complete")],
)
def test_to_do_changes_reach_the_crm(
    db: Session, graph_user: GraphUser, graph_status: str, crm_status: str
) -> None:
    comm_id = task(db, graph_user.user_id, comm_subject="Send quote", comm_status="Pending")
    db.commit()
    graph_user.sync()
    (item,) = todo(graph_user)
    item.data.update({"status": graph_status, "title": "Send the quote"})
    graph_user.box.touch(item)
    run = graph_user.sync()
    assert counts(run)["outlook_to_crm"]["updated"] == 1, run.counts
    row = db.get(Communication, comm_id)
    assert row is not None
    assert (row.comm_status, row.comm_subject) == (crm_status, "Send the quote")
    assert counts(graph_user.sync()) == {}


def test_a_task_made_in_to_do_reaches_the_crm_once(db: Session, graph_user: GraphUser) -> None:
    (default,) = [f for f in graph_user.box.todo_lists.values() if f.well_known == "defaultList"]
    graph_user.box.add(default, {"title": "Book travel", "status": "notStarted"}, "task")
    run = graph_user.sync()
    assert counts(run)["outlook_to_crm"]["created"] == 1, run.counts
    assert counts(graph_user.sync()) == {}
