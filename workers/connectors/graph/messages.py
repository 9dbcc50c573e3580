"""Filing and drafts over Microsoft Graph: app.filings.mailbox's MailboxMessages port.

Emails are read by id with their MIME (`/messages/{id}/$value`, base64 inside `$batch`); a
filed email gets the "Filed in CRM" category and the CRM communication id (the same named
property as on EWS), then moves to the filing folder. Drafts get their files as attachments,
through an upload session above 3 MB as Graph requires.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import quote

from app.filings.mailbox import (
    FILED_CATEGORY,
    DraftFile,
    DraftRequest,
    FiledMark,
    ItemsNotFound,
    MailboxFailure,
    MailboxMessage,
)
from app.kit.errors import AppError, InvalidInput
from app.users.connection import MailboxConnection
from workers.connectors.graph.client import BatchRequest, GraphClient, GraphError
from workers.connectors.graph.mailbox import graph_connection
from workers.connectors.tag import CRMSYNC_PROPERTY_SET

# The communication id a filed email became, as EWS writes it (Integer, crmsync's set).
FILED_PROPERTY_ID = f"Integer {{{CRMSYNC_PROPERTY_SET}}} Name crmsync-communication-id"
SIMPLE_ATTACHMENT_LIMIT = 3 * 1024 * 1024
UPLOAD_CHUNK = 320 * 1024 * 10  # a multiple of 320 KiB, as upload sessions ask


@contextmanager
def _graph(connection: MailboxConnection, doing: str) -> Iterator[GraphClient]:
    """A client for the mailbox; Graph's failures become an API error saying what failed."""
    client = GraphClient(graph_connection(connection))
    try:
        yield client
    except AppError:
        raise
    except Exception as exc:  # every Graph failure is reported to the caller, with its reason
        raise MailboxFailure(f"{connection.mailbox}: {doing} failed: {exc}") from exc
    finally:
        client.close()


def _message_url(connection: MailboxConnection, item_id: str) -> str:
    return f"/users/{connection.mailbox}/messages/{quote(item_id, safe='')}"


def _read(
    client: GraphClient, connection: MailboxConnection, requests: Sequence[BatchRequest]
) -> list[Any]:
    """The members' bodies; ItemsNotFound names every id the mailbox does not hold."""
    answers = client.batch(requests)
    missing = [
        r.url.split("/messages/")[1].split("/")[0].split("?")[0]
        for r, a in zip(requests, answers, strict=True)
        if a.status in (400, 404)
    ]
    if missing:
        raise ItemsNotFound(connection.mailbox, missing)
    for answer in answers:
        if not answer.ok:
            raise answer.error()
    return [a.body for a in answers]


def _sent_at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class GraphMessages:
    def fetch(self, connection: MailboxConnection, item_ids: Sequence[str]) -> list[MailboxMessage]:
        with _graph(connection, "fetching the emails") as client:
            select = "?$select=from,parentFolderId,sentDateTime"
            urls = [_message_url(connection, i) for i in item_ids]
            metadata = _read(client, connection, [BatchRequest("GET", u + select) for u in urls])
            mimes = _read(client, connection, [BatchRequest("GET", u + "/$value") for u in urls])
            owner = connection.mailbox.casefold()
            sent_items = client.get_json(
                f"/users/{connection.mailbox}/mailFolders/sentitems", params={"$select": "id"}
            )["id"]
            return [
                MailboxMessage(
                    item_id=item_id,
                    mime=base64.b64decode(mime),
                    sent_by_owner=_sender(item) == owner
                    or item.get("parentFolderId") == sent_items,
                    sent_at=_sent_at(item.get("sentDateTime")),
                )
                for item_id, item, mime in zip(item_ids, metadata, mimes, strict=True)
            ]

    def mark_filed(
        self, connection: MailboxConnection, marks: Sequence[FiledMark], folder_name: str | None
    ) -> None:
        if not marks:
            return
        with _graph(connection, "marking the emails as filed") as client:
            urls = [_message_url(connection, m.item_id) for m in marks]
            current = _read(
                client,
                connection,
                [BatchRequest("GET", u + "?$select=categories,parentFolderId") for u in urls],
            )
            patches = []
            for url, item, mark in zip(urls, current, marks, strict=True):
                categories = list(item.get("categories") or [])
                if FILED_CATEGORY not in categories:
                    categories.append(FILED_CATEGORY)
                filed = {"id": FILED_PROPERTY_ID, "value": str(mark.communication_id)}
                body = {"categories": categories, "singleValueExtendedProperties": [filed]}
                patches.append(BatchRequest("PATCH", url, body))
            _read(client, connection, patches)
            if folder_name:
                folder_id = _filing_folder(client, connection, folder_name)
                moves = [
                    BatchRequest("POST", url + "/move", {"destinationId": folder_id})
                    for url, item in zip(urls, current, strict=True)
                    if item.get("parentFolderId") != folder_id
                ]
                if moves:
                    _read(client, connection, moves)

    def save_draft(self, connection: MailboxConnection, draft: DraftRequest) -> str:
        if draft.reply_to_item_id is not None:
            raise InvalidInput(
                "body.reply_to_item_id: reply drafts are not made over Microsoft Graph yet"
            )
        with _graph(connection, "saving the draft") as client:
            if draft.draft_item_id is not None:
                item_id = draft.draft_item_id
                (item,) = _read(
                    client,
                    connection,
                    [BatchRequest("GET", _message_url(connection, item_id) + "?$select=isDraft")],
                )
                if not item.get("isDraft"):
                    raise InvalidInput(f"body.draft_item_id: item {item_id} is not a draft")
            else:
                body = {
                    "subject": draft.subject or "",
                    "body": {"contentType": "text", "content": draft.body or ""},
                    "toRecipients": [{"emailAddress": {"address": a}} for a in draft.to],
                }
                created = client.request(
                    "POST", f"/users/{connection.mailbox}/messages", json=body
                ).json()
                item_id = str(created["id"])
            for file in draft.files:
                _attach(client, _message_url(connection, item_id), file)
            return item_id


def _sender(item: dict[str, Any]) -> str:
    address = ((item.get("from") or {}).get("emailAddress") or {}).get("address")
    return str(address or "").casefold()


def _attach(client: GraphClient, message_url: str, file: DraftFile) -> None:
    if len(file.content) <= SIMPLE_ATTACHMENT_LIMIT:
        client.request(
            "POST",
            f"{message_url}/attachments",
            json={
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": file.name,
                "contentType": file.content_type,
                "contentBytes": base64.b64encode(file.content).decode(),
            },
        )
        return
    session = client.request(
        "POST",
        f"{message_url}/attachments/createUploadSession",
        json={
            "AttachmentItem": {
                "attachmentType": "file",
                "name": file.name,
                "size": len(file.content),
                "contentType": file.content_type,
            }
        },
    ).json()
    total = len(file.content)
    for start in range(0, total, UPLOAD_CHUNK):
        chunk = file.content[start : start + UPLOAD_CHUNK]
        # The upload URL is pre-authenticated: it takes no bearer token.
        response = client.http.put(
            session["uploadUrl"],
            content=chunk,
            headers={"Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{total}"},
        )
        if not response.is_success:
            raise GraphError.of(response.status_code, response.text)


def _filing_folder(client: GraphClient, connection: MailboxConnection, name: str) -> str:
    """The top-level folder of that name, created when missing."""
    folders = f"/users/{connection.mailbox}/mailFolders"
    quoted = name.replace("'", "''")
    found = client.get_json(folders, params={"$filter": f"displayName eq '{quoted}'"})
    if found.get("value"):
        return str(found["value"][0]["id"])
    created = client.request("POST", folders, json={"displayName": name}).json()
    return str(created["id"])
