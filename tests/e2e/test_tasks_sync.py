"""Task sync end to end: statuses, templates, exclusions and the first-sync window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from exchangelib import Task
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from app.exclusions.schemas import ExclusionCreate
from app.exclusions.service import create_rule
from app.kit.errors import InvalidInput
from app.mappings import service as mappings_service
from app.mappings.catalog import FIELDS
from app.mappings.schemas import FieldMapping
from app.models.crm import CommLink, Communication, Company
from app.models.sync import RunEntry, RunStatus
from app.sync_settings import service as settings_service
from app.sync_settings.schemas import SettingsPatch, SyncEntity
from app.templates.schemas import TemplateWrite
from app.templates.service import replace_template
from tests.e2e.conftest import Mailbox
from tests.factories.communications import task
from workers.sync.core.details import CLOSING, OPENING
from workers.sync.runner import RunRequest, run_user_sync


def sync(box: Mailbox) -> Any:
    run = run_user_sync(RunRequest(user_id=box.user_id, trigger="test"))
    box.db.expire_all()
    if run.status != RunStatus.SUCCESS:
        errors = box.db.query(RunEntry).filter(RunEntry.run_id == run.run_id).all()
        print([e.message for e in errors if e.level == "error"])  # shown with a failing assertion
    return run


def counts(run: Any) -> dict[str, dict[str, int]]:
    return dict(run.counts.get("tasks", {}))


def tasks(box: Mailbox) -> list[Task]:
    return list(box.outlook.tasks.all())


def only_task(box: Mailbox) -> Task:
    (found,) = tasks(box)
    return found


@pytest.mark.parametrize(
    ("crm_status", "outlook_status"),
    [
        ("Pending", "NotStarted"),
        ("In Progress", "InProgress"),
        ("Complete", "Completed"),
        ("Cancelled", "NotStarted"),
    ],
)
def test_crm_statuses_reach_outlook_and_stay(
    db: Session, mailbox: Mailbox, crm_status: str, outlook_status: str
) -> None:
    comm_id = task(db, mailbox.user_id, comm_subject="Call back", comm_status=crm_status)
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS
    assert only_task(mailbox).status == outlook_status
    assert counts(sync(mailbox)) == {}
    row = db.get(Communication, comm_id)
    assert row is not None and row.comm_status == crm_status  # Cancelled is not flip-flopped


@pytest.mark.parametrize(
    ("outlook_status", "crm_status"),
    [
        ("NotStarted", "Pending"),
        ("InProgress", "In Progress"),
        ("WaitingOnOthers", "Pending"),
        ("Deferred", "Pending"),
        ("Completed", "Complete"),
    ],
)
def test_outlook_statuses_reach_the_crm_and_stay(
    db: Session, mailbox: Mailbox, outlook_status: str, crm_status: str
) -> None:
    Task(
        account=mailbox.outlook,
        folder=mailbox.outlook.tasks,
        subject="Send quote",
        status=outlook_status,
    ).save()
    assert sync(mailbox).status == RunStatus.SUCCESS
    (row,) = db.query(Communication).filter(Communication.comm_subject == "Send quote").all()
    assert row.comm_status == crm_status
    assert counts(sync(mailbox)) == {}
    assert only_task(mailbox).status == outlook_status  # Deferred stays Deferred


def test_details_block_is_appended_and_never_comes_back(db: Session, mailbox: Mailbox) -> None:
    company = Company(comp_name="Acme Ltd")
    db.add(company)
    db.flush()
    comm_id = task(db, mailbox.user_id, comm_subject="Renewal", comm_note="Ask about seats")
    db.add(CommLink(cmli_comm_communicationid=comm_id, cmli_comm_companyid=company.comp_companyid))
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS
    item = only_task(mailbox)
    body = str(item.body)
    assert body.startswith("Ask about seats") and OPENING in body and "Acme Ltd" in body
    for round_trip in range(3):
        item.body = f"Ask about seats (call {round_trip})\n\n" + body.split("\n\n", 1)[1]
        item.save(update_fields=["body"])
        assert sync(mailbox).status == RunStatus.SUCCESS
        row = db.get(Communication, comm_id)
        assert row is not None and row.comm_note == f"Ask about seats (call {round_trip})"
        item = only_task(mailbox)
    item.body = str(item.body).replace(CLOSING, "")  # the user cut the closing line
    item.save(update_fields=["body"])
    sync(mailbox)
    row = db.get(Communication, comm_id)
    assert row is not None and OPENING not in (row.comm_note or "")


def test_a_template_that_does_not_render_is_refused(db: Session) -> None:
    with pytest.raises(InvalidInput, match=r"body\.template"):
        replace_template(db, SyncEntity.TASKS, TemplateWrite(template="{{ company.nme.x }}"))


def test_exclusions_keep_tasks_out_of_outlook_and_take_them_out(
    db: Session, mailbox: Mailbox
) -> None:
    task(db, mailbox.user_id, comm_subject="Internal only", comm_crmonly="Y")
    task(db, mailbox.user_id, comm_subject="Secret", comm_private="Y")
    rule_id = task(db, mailbox.user_id, comm_subject="Phone round", comm_action="PhoneOut")
    kept = task(db, mailbox.user_id, comm_subject="Kept")
    create_rule(
        db,
        ExclusionCreate.model_validate(
            {"entity": "tasks", "field": "comm_action", "operator": "equals", "value": "PhoneOut"}
        ),
    )
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS
    assert [t.subject for t in tasks(mailbox)] == ["Kept"]
    row = db.get(Communication, kept)
    assert row is not None
    row.comm_crmonly = "Y"  # excluded after it was linked: it leaves Outlook
    row.updated_date = datetime.now(UTC).replace(tzinfo=None)
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS
    assert tasks(mailbox) == []
    assert db.get(Communication, rule_id) is not None
    settings_service.update_global(db, SettingsPatch.model_validate({"sync_private": True}))
    db.commit()


def test_first_sync_window_leaves_old_closed_tasks_alone_and_says_so(
    db: Session, mailbox: Mailbox
) -> None:
    settings_service.update_global(db, SettingsPatch.model_validate({"log_level": "debug"}))
    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)
    stale = task(db, mailbox.user_id, comm_subject="Done long ago", comm_status="Complete")
    db.query(Communication).filter(Communication.comm_communicationid == stale).update(
        {Communication.updated_date: old}
    )
    db.query(CommLink).filter(CommLink.cmli_comm_communicationid == stale).update(
        {CommLink.updated_date: old}
    )
    task(db, mailbox.user_id, comm_subject="Open", comm_status="Pending")
    db.commit()
    run = sync(mailbox)
    assert run.status == RunStatus.SUCCESS
    assert [t.subject for t in tasks(mailbox)] == ["Open"]
    entries = db.query(RunEntry).filter(RunEntry.run_id == run.run_id).all()
    assert any(e.crm_id == str(stale) and e.level == "debug" for e in entries)


def test_a_linked_task_marked_private_in_outlook_stays_there(db: Session, mailbox: Mailbox) -> None:
    task_id = task(db, mailbox.user_id, comm_subject="Plan the offsite")
    db.commit()
    assert sync(mailbox).status == RunStatus.SUCCESS
    item = only_task(mailbox)
    item.sensitivity = "Private"
    item.save(update_fields=["sensitivity"])
    assert sync(mailbox).status == RunStatus.SUCCESS
    assert sync(mailbox).status == RunStatus.SUCCESS
    assert only_task(mailbox).sensitivity == "Private"
    row = db.get(Communication, task_id)
    assert row is not None and row.comm_private == "Y"


def test_a_task_field_kept_in_a_custom_column_syncs_both_ways(
    db: Session, mailbox: Mailbox
) -> None:
    # Sage lets an administrator keep an Outlook field in another column, a custom one too.
    db.execute(sql("ALTER TABLE communication ADD COLUMN comm_custom_title VARCHAR(100)"))
    db.commit()
    try:
        rows = [
            FieldMapping(crm=crm, outlook=outlook)
            for crm, outlook in FIELDS[SyncEntity.TASKS].default
            if outlook != "subject"
        ]
        rows.append(FieldMapping(crm="comm_custom_title", outlook="subject"))
        mappings_service.replace_mapping(db, SyncEntity.TASKS, rows)
        comm_id = task(db, mailbox.user_id, comm_subject="Built-in subject")
        db.execute(
            sql(
                "UPDATE communication SET comm_custom_title = 'Custom title'"
                " WHERE comm_communicationid = :id"
            ),
            {"id": comm_id},
        )
        db.commit()
        assert sync(mailbox).status == RunStatus.SUCCESS
        item = only_task(mailbox)
        assert item.subject == "Custom title"

        item.subject = "Renamed in Outlook"
        item.save(update_fields=["subject"])
        assert sync(mailbox).status == RunStatus.SUCCESS
        stored = db.execute(
            sql(
                "SELECT comm_custom_title, comm_subject FROM communication"
                " WHERE comm_communicationid = :id"
            ),
            {"id": comm_id},
        ).one()
        assert tuple(stored) == ("Renamed in Outlook", "Built-in subject")
    finally:
        db.rollback()
        mappings_service.reset_mapping(db, SyncEntity.TASKS)
        db.execute(sql("ALTER TABLE communication DROP COLUMN comm_custom_title"))
        db.commit()
