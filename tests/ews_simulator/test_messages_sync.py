"""Messages with attachments, paging over a large folder, and SyncFolderItems."""

from __future__ import annotations

from exchangelib import Account, Contact, FileAttachment, Mailbox, Message

from ews_simulator.testing import SimulatorServer

MIME = (
    b"From: Carl <carl@example.org>\r\nTo: owner@example.com\r\nSubject: Offer\r\n"
    b"Message-ID: <offer-1@example.org>\r\nDate: Mon, 03 Mar 2025 10:00:00 +0000\r\n"
    b"Content-Type: text/plain\r\n\r\nPlease see the offer.\r\n"
)


def test_message_with_mime_recipients_and_attachment(account: Account) -> None:
    msg = Message(
        folder=account.inbox,
        subject="Quote",
        body="Numbers attached",
        to_recipients=[Mailbox(email_address="bob@example.com")],
        cc_recipients=[Mailbox(email_address="cc@example.com")],
        categories=["CRM", "Sales"],
        is_read=False,
    )
    msg.save()
    msg.attach(
        FileAttachment(name="quote.pdf", content=b"%PDF-1.4 data", content_type="application/pdf")
    )
    fetched = account.inbox.get(id=msg.id)
    assert fetched.subject == "Quote"
    assert [r.email_address for r in fetched.to_recipients] == ["bob@example.com"]
    assert fetched.categories == ["CRM", "Sales"]
    assert fetched.has_attachments is True
    assert fetched.message_id
    (attachment,) = fetched.attachments
    assert attachment.name == "quote.pdf"
    assert attachment.content == b"%PDF-1.4 data"
    assert account.inbox.all().only("subject").get(id=msg.id).mime_content is None
    with_mime = account.inbox.all().only("mime_content").get(id=msg.id)
    assert b"Subject: Quote" in with_mime.mime_content
    fetched.detach(attachment)
    assert account.inbox.get(id=msg.id).has_attachments is False


def test_message_from_mime(account: Account) -> None:
    Message(folder=account.inbox, mime_content=MIME).save()
    (msg,) = account.inbox.all()
    assert msg.subject == "Offer"
    assert msg.message_id == "<offer-1@example.org>"
    assert msg.sender.email_address == "carl@example.org"
    assert msg.datetime_sent.isoformat().startswith("2025-03-03T10:00:00")


def test_paging_and_slicing_10000_items(account: Account, sim: SimulatorServer) -> None:
    sim.seed("owner@example.com", contacts=10_000, seed=7)
    # given_name and surname are simple fields, so exchangelib pages with FindItem alone.
    qs = account.contacts.all().only("given_name", "surname").order_by("surname", "given_name")
    qs.page_size = 1000
    seen = list(qs)
    assert len({c.id for c in seen}) == 10_000
    keys = [(c.surname, c.given_name) for c in seen]
    assert keys == sorted(keys)
    window = list(account.contacts.all().only("surname").order_by("surname")[9_990:10_000])
    assert [c.surname for c in window] == [k[0] for k in keys[9_990:]]
    assert sim.stats()["mailboxes"]["owner@example.com"]["items"] == 10_000
    assert sim.stats()["requests"]["FindItem"] == 11


def test_sync_initial_incremental_deletes_and_resume(
    account: Account, sim: SimulatorServer
) -> None:
    sim.seed("owner@example.com", contacts=700, seed=3)
    folder = account.contacts
    changes = list(folder.sync_items(only_fields=["display_name"], max_changes_returned=512))
    assert len([c for c in changes if c[0] == "create"]) == 700
    state = folder.item_sync_state
    assert sim.stats()["requests"]["SyncFolderItems"] == 2
    first = Contact(folder=folder, display_name="New One", given_name="New")
    first.save()
    (_, existing), *_ = [c for c in changes if c[0] == "create"][:1]
    account.bulk_delete(ids=[existing])
    incremental = list(folder.sync_items(sync_state=state, only_fields=["display_name"]))
    kinds = sorted(c[0] for c in incremental)
    assert kinds == ["create", "delete"]
    resumed_state = folder.item_sync_state
    first.display_name = "Renamed"
    first.save(update_fields=["display_name"])
    update = list(folder.sync_items(sync_state=resumed_state, only_fields=["display_name"]))
    assert [(kind, item.display_name) for kind, item in update] == [("update", "Renamed")]
    assert list(folder.sync_items(sync_state=folder.item_sync_state)) == []


def test_sync_read_flag_change(account: Account) -> None:
    msg = Message(folder=account.inbox, subject="Unread", is_read=False)
    msg.save()
    list(account.inbox.sync_items())
    msg.is_read = True
    msg.save(update_fields=["is_read"])
    changes = list(account.inbox.sync_items(sync_state=account.inbox.item_sync_state))
    assert [(kind, is_read) for kind, (_, is_read) in changes] == [("read_flag_change", True)]
