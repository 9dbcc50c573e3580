"""Filing: messages by id and their MIME, categories, moves; drafts with attachments."""

from __future__ import annotations

import base64
import email
import email.policy
import math

import httpx

from graph_simulator.testing import GraphSimulatorServer
from tests.graph_simulator.conftest import OWNER, Graph, trust


def test_mime_category_and_move(graph: Graph, sim: GraphSimulatorServer) -> None:
    sim.seed(OWNER, messages=2)
    listed = graph.request("GET", "/mailFolders/inbox/messages", "message").json()["value"]
    message = listed[0]
    mime = graph.request("GET", f"/messages/{message['id']}/$value")
    assert mime.status_code == 200
    assert email.message_from_bytes(mime.content)["Subject"] == message["subject"]
    created = graph.request(
        "POST", "/outlook/masterCategories", "outlookCategory", json={"displayName": "Filed in CRM"}
    )
    assert created.status_code == 201
    tagged = graph.request(
        "PATCH", f"/messages/{message['id']}", "message", json={"categories": ["Filed in CRM"]}
    )
    assert tagged.json()["categories"] == ["Filed in CRM"]
    folder = graph.request("POST", "/mailFolders", "mailFolder", json={"displayName": "Filed"})
    found = graph.request(
        "GET", "/mailFolders", "mailFolder", params={"$filter": "displayName eq 'Filed'"}
    ).json()["value"]
    assert [f["id"] for f in found] == [folder.json()["id"]]
    moved = graph.request(
        "POST", f"/messages/{message['id']}/move", "message", json={"destinationId": found[0]["id"]}
    )
    assert moved.status_code == 201
    assert moved.json()["parentFolderId"] == found[0]["id"]
    assert graph.request("GET", f"/messages/{moved.json()['id']}/$value").content == mime.content


def test_draft_with_small_and_large_attachments(graph: Graph, sim: GraphSimulatorServer) -> None:
    draft = graph.request(
        "POST",
        "/messages",
        "message",
        json={
            "subject": "Your documents",
            "body": {"contentType": "text", "content": "Attached."},
            "toRecipients": [{"emailAddress": {"address": "ada@example.org"}}],
        },
    ).json()
    assert draft["isDraft"] is True
    small = graph.request(
        "POST",
        f"/messages/{draft['id']}/attachments",
        "attachment",
        json={
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "a.txt",
            "contentType": "text/plain",
            "contentBytes": base64.b64encode(b"hello").decode(),
        },
    )
    assert small.status_code == 201
    big = bytes(range(256)) * (4 * 4096 + 7)  # above 3 MB
    too_big = graph.request(
        "POST",
        f"/messages/{draft['id']}/attachments",
        json={
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "big.bin",
            "contentBytes": base64.b64encode(big).decode(),
        },
    )
    assert too_big.status_code == 413
    session = graph.request(
        "POST",
        f"/messages/{draft['id']}/attachments/createUploadSession",
        "uploadSession",
        json={"AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": len(big)}},
    ).json()
    chunk = 320 * 1024 * 4
    for n in range(math.ceil(len(big) / chunk)):
        part = big[n * chunk : (n + 1) * chunk]
        first = n * chunk
        response = httpx.put(
            session["uploadUrl"],
            content=part,
            headers={"Content-Range": f"bytes {first}-{first + len(part) - 1}/{len(big)}"},
            verify=trust(sim),
        )
        assert response.status_code in (200, 201), response.text
    attachments = graph.request("GET", f"/messages/{draft['id']}/attachments", "attachment")
    assert [a["size"] for a in attachments.json()["value"]] == [5, len(big)]
    raw = graph.request("GET", f"/messages/{draft['id']}/$value").content
    mime = email.message_from_bytes(raw, policy=email.policy.default)
    names = [p.get_filename() for p in mime.iter_attachments()]  # type: ignore[attr-defined]
    assert names == ["a.txt", "big.bin"]
