"""Item attachments and the MimeContent Exchange synthesises: headers, files, attached items."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from exchangelib import Account, FileAttachment, ItemAttachment, Mailbox, Message
from exchangelib.attachments import AttachmentId
from exchangelib.errors import ErrorInvalidAttachmentId, ErrorInvalidIdMalformed

from ews_simulator import persistence
from ews_simulator.store import Store
from ews_simulator.testing import SimulatorServer
from tests.ews_simulator.conftest import OWNER

PDF = b"%PDF-1.4\n% a tiny pdf\n%%EOF\n"


def _inner_message() -> Message:
    inner = Message(subject="Signed offer", body="See the scan.")
    inner.attach(FileAttachment(name="scan.png", content=b"\x89PNG...", content_type="image/png"))
    return inner


def _email_with_attachments(account: Account) -> Message:
    message = Message(
        folder=account.inbox,
        subject="Contract",
        body="Both documents attached.",
        to_recipients=[Mailbox(email_address="ann@example.com", name="Ann")],
        cc_recipients=[Mailbox(email_address="bob@example.com")],
    )
    message.attach(FileAttachment(name="contract.pdf", content=PDF, content_type="application/pdf"))
    message.attach(ItemAttachment(name="Signed offer", item=_inner_message()))
    message.save()
    return message


def _parsed_mime(account: Account, message: Message) -> EmailMessage:
    fetched = account.inbox.get(id=message.id)
    parsed = email.message_from_bytes(fetched.mime_content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_mime_carries_headers_files_and_attached_emails(account: Account) -> None:
    mime = _parsed_mime(account, _email_with_attachments(account))
    assert mime.get_content_type() == "multipart/mixed"
    assert mime["Subject"] == "Contract"
    assert mime["Date"] is not None
    assert OWNER in str(mime["From"])
    assert str(mime["To"]) == "Ann <ann@example.com>"
    assert str(mime["Cc"]) == "bob@example.com"
    assert mime.get_body(("plain",)).get_content().strip() == "Both documents attached."  # type: ignore[union-attr]
    parts = list(mime.iter_attachments())
    assert [p.get_content_type() for p in parts] == ["application/pdf", "message/rfc822"]
    assert parts[0].get_filename() == "contract.pdf"
    assert parts[0].get_content() == PDF
    inner = parts[1].get_content()
    assert inner["Subject"] == "Signed offer"
    (scan,) = inner.iter_attachments()
    assert scan.get_filename() == "scan.png"
    assert scan.get_content() == b"\x89PNG..."


def test_item_attachments_are_created_read_and_deleted(account: Account) -> None:
    message = Message(folder=account.drafts, subject="Carrier").save()
    attachment = ItemAttachment(name="forwarded", item=_inner_message())
    message.attach(attachment)
    assert attachment.attachment_id is not None
    fetched = account.drafts.get(id=message.id)
    (listed,) = fetched.attachments
    assert isinstance(listed, ItemAttachment)
    assert listed.name == "forwarded"
    assert listed.item.subject == "Signed offer"
    assert listed.item.body == "See the scan."
    (nested,) = listed.item.attachments
    assert nested.name == "scan.png"
    assert nested.content == b"\x89PNG..."
    fetched.detach(listed)
    assert account.drafts.get(id=message.id).attachments == []


def test_item_attachments_survive_a_restart(
    sim: SimulatorServer, account: Account, tmp_path: Path
) -> None:
    message = _email_with_attachments(account)
    persistence.save(sim.store, tmp_path / "data.json")
    restored = Store()
    persistence.load(restored, tmp_path / "data.json")
    (item,) = (
        restored.mailbox(OWNER)
        .folders[restored.mailbox(OWNER).distinguished["inbox"]]
        .items.values()
    )
    assert item.id == message.id
    attached = item.attachments[1].item
    assert attached is not None
    assert [a.name for a in attached.attachments] == ["scan.png"]


def test_attachments_saved_with_their_item_can_be_detached(account: Account) -> None:
    message = Message(folder=account.inbox, subject="two files")
    for name in ("a.pdf", "b.pdf"):
        message.attach(FileAttachment(name=name, content=PDF, content_type="application/pdf"))
    message.save()
    first, second = message.attachments
    assert first.attachment_id is not None and second.attachment_id is not None
    message.detach(first)
    (left,) = account.inbox.get(id=message.id).attachments
    assert left.name == "b.pdf"


def test_exported_items_upload_as_new_items(account: Account) -> None:
    message = _email_with_attachments(account)
    (blob,) = account.export([message])
    ((new_id, _),) = account.upload([(account.drafts, blob)])
    assert new_id != message.id
    copy = account.drafts.get(id=new_id)
    assert copy.subject == "Contract"
    assert sorted(a.name for a in copy.attachments) == ["Signed offer", "contract.pdf"]


def test_missing_and_malformed_attachment_ids(account: Account) -> None:
    message = Message(folder=account.inbox, subject="one file")
    message.attach(FileAttachment(name="a.pdf", content=PDF, content_type="application/pdf"))
    message.save()
    (attachment,) = message.attachments
    gone_id = attachment.attachment_id
    message.detach(attachment)
    for bad_id, error in (
        (gone_id.id, ErrorInvalidAttachmentId),
        ("AAMk=", ErrorInvalidIdMalformed),
    ):
        probe = FileAttachment(parent_item=message, attachment_id=AttachmentId(id=bad_id), name="x")
        with pytest.raises(error), probe.fp as fp:
            fp.read()
