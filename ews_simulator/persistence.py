"""Saving the store to a JSON file and loading it back (--data).

Item properties are kept as XML strings: they are XML in memory, and JSON carries them safely
without any executable serialisation format.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from ews_simulator.store import Attachment, Folder, Item, Mailbox, Store
from ews_simulator.xml import parse_fragment, to_string

FORMAT_VERSION = 1


def item_to_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "folder_id": item.folder_id,
        "change_key": item.change_key,
        "created": item.created.isoformat(),
        "last_modified": item.last_modified.isoformat(),
        "fields": {k: to_string(v) for k, v in item.fields.items()},
        "extended": {k: to_string(v) for k, v in item.extended.items()},
        "attachments": [
            {
                "id": a.id,
                "name": a.name,
                "content_type": a.content_type,
                "content": base64.b64encode(a.content).decode(),
                "is_inline": a.is_inline,
                "content_id": a.content_id,
                "last_modified": a.last_modified.isoformat(),
                "item": item_to_json(a.item) if a.item is not None else None,
            }
            for a in item.attachments
        ],
        "exceptions": {str(k): item_to_json(v) for k, v in item.exceptions.items()},
        "deleted_occurrences": sorted(item.deleted_occurrences),
        "master_id": item.master_id,
        "instance_index": item.instance_index,
    }


def item_from_json(data: dict[str, Any]) -> Item:
    return Item(
        id=data["id"],
        kind=data["kind"],
        folder_id=data["folder_id"],
        change_key=data["change_key"],
        created=datetime.fromisoformat(data["created"]),
        last_modified=datetime.fromisoformat(data["last_modified"]),
        fields={k: parse_fragment(v) for k, v in data["fields"].items()},
        extended={k: parse_fragment(v) for k, v in data["extended"].items()},
        attachments=[
            Attachment(
                id=a["id"],
                name=a["name"],
                content_type=a["content_type"],
                content=base64.b64decode(a["content"]),
                is_inline=a["is_inline"],
                content_id=a["content_id"],
                last_modified=datetime.fromisoformat(a["last_modified"]),
                item=item_from_json(a["item"]) if a.get("item") else None,
            )
            for a in data["attachments"]
        ],
        exceptions={int(k): item_from_json(v) for k, v in data["exceptions"].items()},
        deleted_occurrences=set(data["deleted_occurrences"]),
        master_id=data["master_id"],
        instance_index=data["instance_index"],
    )


def _mailbox_to_json(box: Mailbox) -> dict[str, Any]:
    return {
        "smtp": box.smtp,
        "folders": [
            {
                "id": f.id,
                "kind": f.kind,
                "display_name": f.display_name,
                "folder_class": f.folder_class,
                "parent_id": f.parent_id,
                "distinguished": f.distinguished,
                "system": f.system,
                "change_key": f.change_key,
                "seq": f.seq,
                "log": f.log,
                "items": [item_to_json(i) for i in f.items.values()],
            }
            for f in box.folders.values()
        ],
    }


def _mailbox_from_json(data: dict[str, Any]) -> Mailbox:
    box = Mailbox(data["smtp"])
    box.folders.clear()
    box.distinguished.clear()
    for fd in data["folders"]:
        folder = Folder(
            id=fd["id"],
            kind=fd["kind"],
            display_name=fd["display_name"],
            folder_class=fd["folder_class"],
            parent_id=fd["parent_id"],
            distinguished=fd["distinguished"],
            system=fd.get("system", False),
            change_key=fd["change_key"],
            log=[(int(s), str(i), str(k)) for s, i, k in fd["log"]],
            seq=fd["seq"],
        )
        for item_data in fd["items"]:
            item = item_from_json(item_data)
            folder.items[item.id] = item
            box.item_folder[item.id] = folder.id
        box.folders[folder.id] = folder
        if folder.distinguished:
            box.distinguished[folder.distinguished] = folder.id
    return box


def save(store: Store, path: Path) -> None:
    with store.lock_all():
        data = {
            "version": FORMAT_VERSION,
            "mailboxes": [_mailbox_to_json(b) for b in store.mailboxes.values()],
        }
    # Write to a temporary file first so a crash mid-write never leaves a truncated file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    Path(tmp).replace(path)


def load(store: Store, path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has unsupported format version {data.get('version')}")
    store.reset()
    for box_data in data["mailboxes"]:
        box = _mailbox_from_json(box_data)
        store.mailboxes[box.smtp] = box
