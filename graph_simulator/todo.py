"""Microsoft To Do: task lists, tasks (CRUD, delta) and their linked resources.

To Do tasks carry no extended properties; an application keeps its own id for a task in a
linked resource (applicationName, externalId), created with the task or added later.
"""

from __future__ import annotations

from typing import Any

from graph_simulator import items
from graph_simulator.delta import Current
from graph_simulator.odata import Response, Shape, bad_request, not_found
from graph_simulator.routes import Call, route
from graph_simulator.store import Folder, Item, new_id, now_iso

STATUSES = frozenset({"notStarted", "inProgress", "completed", "waitingOnOthers", "deferred"})
IMPORTANCES = frozenset({"low", "normal", "high"})
LINK_FIELDS = ("webUrl", "applicationName", "displayName", "externalId")


def _list(call: Call) -> Folder:
    found = call.mailbox.todo_lists.get(call.params["list"])
    if found is None:
        raise not_found(call.params["list"])
    return found


def _render_list(folder: Folder) -> dict[str, Any]:
    return {
        "@odata.etag": f'W/"{folder.id}"',
        "id": folder.id,
        "displayName": folder.name,
        "isOwner": True,
        "isShared": False,
        "wellknownListName": folder.well_known or "none",
    }


def _render(item: Item) -> dict[str, Any]:
    return {
        "@odata.etag": f'W/"{item.change_key}"',
        "id": item.id,
        "createdDateTime": item.created,
        "lastModifiedDateTime": item.modified,
        "bodyLastModifiedDateTime": item.modified,
        "status": "notStarted",
        "importance": "normal",
        "isReminderOn": False,
        "hasAttachments": False,
        "categories": [],
        "body": {"content": "", "contentType": "text"},
        **item.data,
    }


def _linked_resource(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw.get("applicationName") or not raw.get("displayName"):
        raise bad_request("A linkedResource needs an applicationName and a displayName.")
    return {"id": new_id("link"), **{k: raw[k] for k in LINK_FIELDS if k in raw}}


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    if "status" in body and body["status"] not in STATUSES:
        raise bad_request(f"Invalid status {body['status']!r}.")
    if "importance" in body and body["importance"] not in IMPORTANCES:
        raise bad_request(f"Invalid importance {body['importance']!r}.")
    if body.get("status") == "completed" and "completedDateTime" not in body:
        body = {**body, "completedDateTime": {"dateTime": now_iso()[:-1], "timeZone": "UTC"}}
    elif "status" in body and body["status"] != "completed":
        body = {**body, "completedDateTime": None}
    return body


@route("GET", "/todo/lists", "todo.lists")
def task_lists(call: Call) -> Response:
    rendered = [_render_list(f) for f in call.mailbox.todo_lists.values()]
    return items.list_page(call.request, rendered)


@route("GET", "/todo/lists/{list}/tasks", "todo.tasks.list")
def list_tasks(call: Call) -> Response:
    return items.list_page(call.request, [_render(i) for i in _list(call).items.values()])


@route("POST", "/todo/lists/{list}/tasks", "todo.tasks.create")
def create_task(call: Call) -> Response:
    body = _checked(call.request.json())
    if not body.get("title"):
        raise bad_request("A task needs a title.")
    links = [_linked_resource(r) for r in body.pop("linkedResources", None) or []]
    item = items.create(call.mailbox, _list(call), body, "task")
    if links:
        item.data["linkedResources"] = links
    return Response(201, Shape(expand_linked_resources=bool(links)).present(_render(item)))


@route("GET", "/todo/lists/{list}/tasks/delta", "todo.tasks.delta")
def tasks_delta(call: Call) -> Response:
    folder = _list(call)

    def collect(options: dict[str, str]) -> Current:
        shape = Shape.of(options)
        return {i.id: (i.change_key, shape.present(_render(i))) for i in folder.items.values()}

    scope = call.scope(f"todo:{folder.id}")
    return call.deltas.serve(
        call.request, scope, call.store.generation, collect, items.DEFAULT_PAGE
    )


@route("GET", "/todo/lists/{list}/tasks/{id}", "todo.tasks.get")
def get_task(call: Call) -> Response:
    item = items.get(_list(call), call.params["id"])
    return Response(200, Shape.of(call.request.query).present(_render(item)))


@route("PATCH", "/todo/lists/{list}/tasks/{id}", "todo.tasks.update")
def update_task(call: Call) -> Response:
    item = items.get(_list(call), call.params["id"])
    body = _checked(call.request.json())
    if "linkedResources" in body:
        raise bad_request("linkedResources are changed through their own collection.")
    items.apply(call.mailbox, item, body)
    return Response(200, _render(item))


@route("DELETE", "/todo/lists/{list}/tasks/{id}", "todo.tasks.delete")
def delete_task(call: Call) -> Response:
    folder = _list(call)
    items.get(folder, call.params["id"])
    del folder.items[call.params["id"]]
    return Response(204)


@route("GET", "/todo/lists/{list}/tasks/{id}/linkedResources", "todo.links.list")
def list_links(call: Call) -> Response:
    item = items.get(_list(call), call.params["id"])
    return Response(200, {"value": list(item.data.get("linkedResources", []))})


@route("POST", "/todo/lists/{list}/tasks/{id}/linkedResources", "todo.links.create")
def create_link(call: Call) -> Response:
    item = items.get(_list(call), call.params["id"])
    link = _linked_resource(call.request.json())
    item.data.setdefault("linkedResources", []).append(link)
    call.mailbox.touch(item)
    return Response(201, link)
