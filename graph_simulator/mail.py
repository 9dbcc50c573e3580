"""Messages for filing: by id, their MIME, categories, moves; drafts and their attachments.

Attachments up to 3 MB are posted whole; larger ones go through an upload session whose URL
is pre-authenticated (no bearer token, as Graph's are) and takes byte ranges in order.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from graph_simulator import items
from graph_simulator.odata import GraphError, Response, Shape, bad_request, not_found
from graph_simulator.routes import Call, route
from graph_simulator.store import Folder, Item, Mailbox, new_id

if TYPE_CHECKING:
    from graph_simulator.api import GraphApi

SIMPLE_ATTACHMENT_LIMIT = 3 * 1024 * 1024
UPLOAD_PREFIX = "/_upload/"
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def _message(call: Call) -> tuple[Folder, Item]:
    found = call.mailbox.find_message(call.params["id"])
    if found is None:
        raise not_found(call.params["id"])
    return found


def _render(folder: Folder, item: Item) -> dict[str, Any]:
    rendered = items.outlook_item(item, folder, "message")
    rendered.setdefault("isDraft", folder.well_known == "drafts")
    rendered.setdefault("isRead", True)
    rendered["hasAttachments"] = bool(item.data.get("hasAttachments"))
    return rendered


def _render_folder(mailbox: Mailbox, folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "displayName": folder.name,
        "parentFolderId": mailbox.user_id,
        "childFolderCount": 0,
        "totalItemCount": len(folder.items),
        "unreadItemCount": 0,
        "isHidden": False,
    }


def mime_of(mailbox: Mailbox, item: Item) -> bytes:
    """The stored MIME of a received message, or one written from a draft's properties."""
    stored = mailbox.mime.get(item.id)
    if stored is not None:
        return stored
    data = item.data
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = data.get("subject") or ""
    message["From"] = mailbox.smtp
    recipients = [r["emailAddress"]["address"] for r in data.get("toRecipients", [])]
    if recipients:
        message["To"] = ", ".join(recipients)
    message["Message-ID"] = data.get("internetMessageId") or make_msgid()
    body = data.get("body") or {}
    subtype = "html" if body.get("contentType") == "html" else "plain"
    message.set_content(body.get("content") or "", subtype=subtype)
    for attachment in mailbox.attachments.get(item.id, []):
        maintype, _, subtype = attachment["contentType"].partition("/")
        message.add_attachment(
            base64.b64decode(attachment["contentBytes"]),
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment["name"],
        )
    return message.as_bytes()


def message_fields(raw: bytes) -> dict[str, Any]:
    """The message properties Exchange derives from a received MIME message."""
    parsed = message_from_bytes(raw, policy=policy.default)
    sender = parsed.get("From", "")
    address = re.search(r"[\w.+-]+@[\w.-]+", str(sender))
    received = parsed.get("Date")
    stamp = parsedate_to_datetime(received) if received else None
    return {
        "subject": str(parsed.get("Subject", "")),
        "internetMessageId": str(parsed.get("Message-ID", "")),
        "from": {
            "emailAddress": {"name": str(sender), "address": address.group(0) if address else ""}
        },
        "toRecipients": [
            {"emailAddress": {"address": a.strip(), "name": a.strip()}}
            for a in str(parsed.get("To", "")).split(",")
            if a.strip()
        ],
        "receivedDateTime": stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else None,
        "hasAttachments": any(True for _ in parsed.iter_attachments()),
    }


@route("GET", "/mailFolders", "mail.folders")
def list_folders(call: Call) -> Response:
    folders = [_render_folder(call.mailbox, f) for f in call.mailbox.mail_folders.values()]
    return items.list_page(call.request, folders)


@route("POST", "/mailFolders", "mail.folders.create")
def create_folder(call: Call) -> Response:
    name = call.request.json().get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("A mail folder needs a displayName.")
    if any(f.name.lower() == name.lower() for f in call.mailbox.mail_folders.values()):
        raise GraphError(
            409, "ErrorFolderExists", "A folder with the specified name already exists."
        )
    folder = Folder(new_id("mailfolder"), name)
    call.mailbox.mail_folders[folder.id] = folder
    return Response(201, _render_folder(call.mailbox, folder))


@route("GET", "/mailFolders/{folder}", "mail.folders.get")
def get_folder(call: Call) -> Response:
    folder = call.mailbox.mail_folder(call.params["folder"])
    if folder is None:
        raise not_found(call.params["folder"])
    return Response(200, _render_folder(call.mailbox, folder))


@route("GET", "/mailFolders/{folder}/messages", "mail.messages.list")
def list_messages(call: Call) -> Response:
    folder = call.mailbox.mail_folder(call.params["folder"])
    if folder is None:
        raise not_found(call.params["folder"])
    return items.list_page(call.request, [_render(folder, i) for i in folder.items.values()])


@route("POST", "/messages", "mail.drafts.create")
def create_draft(call: Call) -> Response:
    drafts = call.mailbox.mail_folder("drafts")
    assert drafts is not None
    item = items.create(call.mailbox, drafts, call.request.json(), "message")
    item.data.setdefault("internetMessageId", make_msgid(domain="graph-simulator"))
    return Response(201, Shape().present(_render(drafts, item)))


@route("GET", "/messages/{id}", "mail.messages.get")
def get_message(call: Call) -> Response:
    folder, item = _message(call)
    return Response(200, Shape.of(call.request.query).present(_render(folder, item)))


@route("GET", "/messages/{id}/$value", "mail.messages.mime")
def get_mime(call: Call) -> Response:
    _, item = _message(call)
    return Response(200, mime_of(call.mailbox, item), content_type="message/rfc822")


@route("PATCH", "/messages/{id}", "mail.messages.update")
def update_message(call: Call) -> Response:
    folder, item = _message(call)
    items.apply(call.mailbox, item, call.request.json())
    return Response(200, Shape().present(_render(folder, item)))


@route("DELETE", "/messages/{id}", "mail.messages.delete")
def delete_message(call: Call) -> Response:
    folder, item = _message(call)
    del folder.items[item.id]
    return Response(204)


@route("POST", "/messages/{id}/move", "mail.messages.move")
def move_message(call: Call) -> Response:
    folder, item = _message(call)
    destination_id = call.request.json().get("destinationId")
    target = call.mailbox.mail_folder(str(destination_id or ""))
    if target is None:
        raise not_found(f"folder {destination_id}")
    # A move gives the message a new id (unless immutable ids are asked for), as in Exchange.
    del folder.items[item.id]
    old_id = item.id
    if "immutableid" not in call.request.prefer().get("idtype", "").lower():
        item.id = new_id("message")
        for store in (call.mailbox.mime, call.mailbox.attachments):
            if old_id in store:
                store[item.id] = store.pop(old_id)  # type: ignore[assignment]
    target.items[item.id] = item
    call.mailbox.touch(item)
    return Response(201, Shape().present(_render(target, item)))


@route("GET", "/outlook/masterCategories", "mail.categories.list")
def list_categories(call: Call) -> Response:
    return Response(200, {"value": call.mailbox.categories})


@route("POST", "/outlook/masterCategories", "mail.categories.create")
def create_category(call: Call) -> Response:
    body = call.request.json()
    name = body.get("displayName")
    if not isinstance(name, str) or not name:
        raise bad_request("A category needs a displayName.")
    if any(c["displayName"].lower() == name.lower() for c in call.mailbox.categories):
        raise GraphError(409, "ErrorDuplicateCategory", f"The category {name!r} already exists.")
    category = {"id": new_id("category"), "displayName": name, "color": body.get("color", "none")}
    call.mailbox.categories.append(category)
    return Response(201, category)


def _attachment(name: str, content_type: str, content: bytes) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "id": new_id("attachment"),
        "name": name,
        "contentType": content_type,
        "size": len(content),
        "isInline": False,
        "contentBytes": base64.b64encode(content).decode(),
    }


def _attach(mailbox: Mailbox, item: Item, attachment: dict[str, Any]) -> None:
    mailbox.attachments.setdefault(item.id, []).append(attachment)
    item.data["hasAttachments"] = True
    mailbox.touch(item)


@route("GET", "/messages/{id}/attachments", "mail.attachments.list")
def list_attachments(call: Call) -> Response:
    _, item = _message(call)
    return Response(200, {"value": call.mailbox.attachments.get(item.id, [])})


@route("POST", "/messages/{id}/attachments", "mail.attachments.create")
def create_attachment(call: Call) -> Response:
    _, item = _message(call)
    body = call.request.json()
    if body.get("@odata.type") != "#microsoft.graph.fileAttachment":
        raise bad_request("Only #microsoft.graph.fileAttachment is served.")
    try:
        content = base64.b64decode(str(body.get("contentBytes", "")), validate=True)
    except ValueError as e:
        raise bad_request(f"contentBytes is not base64: {e}") from e
    if len(content) > SIMPLE_ATTACHMENT_LIMIT:
        raise GraphError(
            413, "ErrorRequestEntityTooLarge", "Attachments above 3 MB need an upload session."
        )
    attachment = _attachment(
        str(body.get("name") or "attachment"),
        str(body.get("contentType") or "application/octet-stream"),
        content,
    )
    _attach(call.mailbox, item, attachment)
    return Response(201, attachment)


@route("POST", "/messages/{id}/attachments/createUploadSession", "mail.attachments.session")
def create_upload_session(call: Call) -> Response:
    _, item = _message(call)
    spec = call.request.json().get("AttachmentItem") or {}
    size = spec.get("size")
    if spec.get("attachmentType") != "file" or not isinstance(size, int) or size <= 0:
        raise bad_request("AttachmentItem needs attachmentType 'file' and a positive size.")
    session = new_id("upload")
    call.uploads[session] = {
        "mailbox": call.mailbox,
        "message": item.id,
        "name": str(spec.get("name") or "attachment"),
        "contentType": str(spec.get("contentType") or "application/octet-stream"),
        "size": size,
        "received": bytearray(),
    }
    return Response(
        201,
        {
            "uploadUrl": f"{call.request.base_url}{UPLOAD_PREFIX}{session}",
            "expirationDateTime": "2099-01-01T00:00:00Z",
            "nextExpectedRanges": ["0-"],
        },
    )


def upload_chunk(api: GraphApi, path: str, headers: dict[str, str], body: bytes) -> Response:
    """A PUT of one byte range to an upload session; the last one creates the attachment."""
    api.control.count("mail.attachments.upload", None)
    session = api.uploads.get(path[len(UPLOAD_PREFIX) :])
    if session is None:
        return not_found("upload session").response()
    match = _RANGE.match(headers.get("content-range", ""))
    received: bytearray = session["received"]
    if (
        match is None
        or int(match.group(1)) != len(received)
        or int(match.group(2)) - int(match.group(1)) + 1 != len(body)
        or int(match.group(3)) != session["size"]
    ):
        return GraphError(
            416, "InvalidRange", f"The next expected range is {len(received)}-."
        ).response()
    received.extend(body)
    if len(received) < session["size"]:
        return Response(200, {"nextExpectedRanges": [f"{len(received)}-"]})
    mailbox: Mailbox = session["mailbox"]
    del api.uploads[path[len(UPLOAD_PREFIX) :]]
    with mailbox.lock:
        found = mailbox.find_message(session["message"])
        if found is None:
            return not_found(session["message"]).response()
        _attach(
            mailbox, found[1], _attachment(session["name"], session["contentType"], bytes(received))
        )
    return Response(201)
