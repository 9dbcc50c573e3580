"""The mailboxes behind the simulator: folders of items held as Graph JSON, with change numbers.

Every change takes the mailbox's next change number; an item's changeKey is derived from it,
so delta queries can tell what changed since a snapshot. Deleting an item removes it: deltas
compare snapshots, so no tombstones are needed.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

WELL_KNOWN_MAIL_FOLDERS = {
    "inbox": "Inbox",
    "drafts": "Drafts",
    "sentitems": "Sent Items",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(prefix: str) -> str:
    # Graph ids are long opaque base64 strings; a prefix keeps the simulator's readable.
    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass
class Item:
    id: str
    data: dict[str, Any]
    change: int
    created: str
    modified: str
    # Calendar series masters: modified occurrences by original start, cancelled ones.
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    @property
    def change_key(self) -> str:
        return f"CK{self.change:08d}"


@dataclass
class Folder:
    id: str
    name: str
    well_known: str | None = None
    items: dict[str, Item] = field(default_factory=dict)


class Mailbox:
    def __init__(self, smtp: str) -> None:
        self.smtp = smtp
        self.user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{smtp}"))
        self.lock = threading.RLock()
        self.change = 0
        self.contacts = Folder(new_id("contactfolder"), "Contacts")
        self.calendar = Folder(new_id("calendar"), "Calendar")
        default_list = Folder(new_id("todolist"), "Tasks", "defaultList")
        self.todo_lists: dict[str, Folder] = {default_list.id: default_list}
        self.mail_folders: dict[str, Folder] = {}
        for well_known, name in WELL_KNOWN_MAIL_FOLDERS.items():
            folder = Folder(new_id("mailfolder"), name, well_known)
            self.mail_folders[folder.id] = folder
        self.categories: list[dict[str, str]] = []
        self.mime: dict[str, bytes] = {}
        self.attachments: dict[str, list[dict[str, Any]]] = {}

    def next_change(self) -> int:
        self.change += 1
        return self.change

    def add(self, folder: Folder, data: dict[str, Any], prefix: str) -> Item:
        stamp = now_iso()
        item = Item(new_id(prefix), data, self.next_change(), stamp, stamp)
        folder.items[item.id] = item
        return item

    def touch(self, item: Item) -> None:
        item.change = self.next_change()
        item.modified = now_iso()

    def mail_folder(self, key: str) -> Folder | None:
        folder = self.mail_folders.get(key)
        if folder is not None:
            return folder
        return next((f for f in self.mail_folders.values() if f.well_known == key.lower()), None)

    def find_message(self, message_id: str) -> tuple[Folder, Item] | None:
        for folder in self.mail_folders.values():
            if message_id in folder.items:
                return folder, folder.items[message_id]
        return None

    def item_count(self) -> int:
        folders = [self.contacts, self.calendar, *self.todo_lists.values()]
        folders += self.mail_folders.values()
        return sum(len(f.items) for f in folders)


class Store:
    def __init__(self, users: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        # With registered users only their mailboxes exist; otherwise any address is served.
        self.registered = {u.lower() for u in users or []}
        self.mailboxes: dict[str, Mailbox] = {}
        self.generation = uuid.uuid4().hex[:12]

    def mailbox(self, key: str, create: bool = True) -> Mailbox | None:
        key = key.strip().lower()
        with self._lock:
            box = self.mailboxes.get(key)
            if box is None:
                box = next((b for b in self.mailboxes.values() if b.user_id == key), None)
            if box is None and create and "@" in key:
                if self.registered and key not in self.registered:
                    return None
                box = self.mailboxes[key] = Mailbox(key)
            return box

    def reset(self) -> None:
        with self._lock:
            self.mailboxes.clear()
            # Delta tokens of the old generation are no longer valid: 410 syncStateNotFound.
            self.generation = uuid.uuid4().hex[:12]
