"""Filing and drafts over Graph (the API's MailboxMessages port) against the Graph simulator."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace

import pytest

from app.config import get_settings
from app.filings.mailbox import (
    FILED_CATEGORY,
    DraftFile,
    DraftRequest,
    FiledMark,
    ItemsNotFound,
)
from app.kit.errors import InvalidInput
from app.models.sync import AuthType
from app.users.connection import MailboxConnection, OAuthApp
from graph_simulator.testing import GraphSimulatorServer
from tests.connectors.graph.conftest import CLIENT_ID, CLIENT_SECRET, MAILBOX, TENANT
from workers.connectors.dispatch import ConnectorMessages
from workers.connectors.graph.messages import FILED_PROPERTY_ID


@pytest.fixture
def connection(sim: GraphSimulatorServer, monkeypatch: pytest.MonkeyPatch) -> MailboxConnection:
    monkeypatch.setattr(get_settings(), "ca_bundle", sim.ca_file)
    app = OAuthApp(
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_certificate=None,
        authority_url=sim.url,
        audience=sim.url,
    )
    return MailboxConnection(
        mailbox=MAILBOX,
        ews_url=None,
        auth_type=AuthType.OAUTH2,
        username=None,
        secret=None,
        impersonation=False,
        oauth_app=app,
        graph_url=sim.graph_url,
    )


def test_fetch_mark_filed_and_move(
    sim: GraphSimulatorServer, connection: MailboxConnection
) -> None:
    sim.seed(MAILBOX, messages=30)
    inbox = sim.mailbox(MAILBOX).mail_folder("inbox")
    assert inbox is not None
    ids = list(inbox.items)
    messages = ConnectorMessages()
    sim.clear_stats()
    fetched = messages.fetch(connection, ids)
    assert [m.item_id for m in fetched] == ids
    parsed = email.message_from_bytes(fetched[0].mime, policy=email.policy.default)
    assert parsed["Subject"] == inbox.items[ids[0]].data["subject"]
    assert not fetched[0].sent_by_owner and fetched[0].sent_at is None
    messages.mark_filed(
        connection, [FiledMark(i, 100 + n) for n, i in enumerate(ids)], "Filed in CRM"
    )
    stats = sim.stats()
    print("graph filing of 30 emails:", stats["requests"])
    # Five $batch kinds (metadata, MIME, categories, PATCH, move) of 20 emails each.
    assert stats["requests"]["batch"] == 10, stats
    box = sim.mailbox(MAILBOX)
    (filed_folder,) = [f for f in box.mail_folders.values() if f.name == "Filed in CRM"]
    assert len(filed_folder.items) == 30 and not inbox.items
    item = next(iter(filed_folder.items.values()))
    assert FILED_CATEGORY in item.data["categories"]
    assert item.data["singleValueExtendedProperties"][0]["id"] == FILED_PROPERTY_ID


def test_unknown_ids_are_named(sim: GraphSimulatorServer, connection: MailboxConnection) -> None:
    with pytest.raises(ItemsNotFound) as missing:
        ConnectorMessages().fetch(connection, ["message-nope"])
    assert missing.value.item_ids == ("message-nope",)


def test_drafts_with_small_and_large_files(
    sim: GraphSimulatorServer, connection: MailboxConnection
) -> None:
    big = bytes(range(256)) * (5 * 4096)  # 5 MB: an upload session
    draft = DraftRequest(
        subject="Your quote",
        to=("ada@example.org",),
        body="Attached.",
        files=(DraftFile("quote.pdf", "application/pdf", b"%PDF-1.4 small"),),
    )
    messages = ConnectorMessages()
    item_id = messages.save_draft(connection, draft)
    again = messages.save_draft(
        connection,
        replace(draft, files=(DraftFile("big.bin", "application/octet-stream", big),),
                draft_item_id=item_id),
    )  # fmt: skip
    assert again == item_id
    attachments = sim.mailbox(MAILBOX).attachments[item_id]
    assert [(a["name"], a["size"]) for a in attachments] == [
        ("quote.pdf", 14),
        ("big.bin", len(big)),
    ]
    with pytest.raises(InvalidInput):
        messages.save_draft(connection, replace(draft, reply_to_item_id=item_id))
