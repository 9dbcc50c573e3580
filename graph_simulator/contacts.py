"""Contacts of the default contacts folder: CRUD, listing and delta."""

from __future__ import annotations

from typing import Any

from graph_simulator import items
from graph_simulator.delta import Current
from graph_simulator.odata import Response, Shape, not_found
from graph_simulator.routes import Call, route
from graph_simulator.store import Folder, Item


def _folder(call: Call) -> Folder:
    folder_id = call.params.get("folder")
    if folder_id is not None and folder_id not in (call.mailbox.contacts.id, "contacts"):
        raise not_found(folder_id)
    return call.mailbox.contacts


def _render(call: Call, item: Item) -> dict[str, Any]:
    rendered = items.outlook_item(item, call.mailbox.contacts, "contact")
    if not rendered.get("displayName"):
        parts = [rendered.get("givenName"), rendered.get("surname")]
        rendered["displayName"] = " ".join(p for p in parts if p) or ""
    rendered.setdefault("emailAddresses", [])
    return rendered


@route("GET", "/contacts", "contacts.list")
@route("GET", "/contactFolders/{folder}/contacts", "contacts.list")
def list_contacts(call: Call) -> Response:
    folder = _folder(call)
    return items.list_page(call.request, [_render(call, i) for i in folder.items.values()])


@route("POST", "/contacts", "contacts.create")
@route("POST", "/contactFolders/{folder}/contacts", "contacts.create")
def create_contact(call: Call) -> Response:
    item = items.create(call.mailbox, _folder(call), call.request.json(), "contact")
    return Response(201, Shape().present(_render(call, item)))


@route("GET", "/contacts/delta", "contacts.delta")
@route("GET", "/contactFolders/{folder}/contacts/delta", "contacts.delta")
def contacts_delta(call: Call) -> Response:
    folder = _folder(call)

    def collect(options: dict[str, str]) -> Current:
        shape = Shape.of(options)
        return {
            i.id: (i.change_key, shape.present(_render(call, i))) for i in folder.items.values()
        }

    return call.deltas.serve(
        call.request, call.scope("contacts"), call.store.generation, collect, items.DEFAULT_PAGE
    )


@route("GET", "/contacts/{id}", "contacts.get")
def get_contact(call: Call) -> Response:
    item = items.get(call.mailbox.contacts, call.params["id"])
    return Response(200, Shape.of(call.request.query).present(_render(call, item)))


@route("PATCH", "/contacts/{id}", "contacts.update")
def update_contact(call: Call) -> Response:
    item = items.get(call.mailbox.contacts, call.params["id"])
    items.apply(call.mailbox, item, call.request.json())
    return Response(200, Shape().present(_render(call, item)))


@route("DELETE", "/contacts/{id}", "contacts.delete")
def delete_contact(call: Call) -> Response:
    items.get(call.mailbox.contacts, call.params["id"])
    del call.mailbox.contacts.items[call.params["id"]]
    return Response(204)
