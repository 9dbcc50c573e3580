"""The in-memory mailbox store: mailboxes, folders, items and each folder's change log.

Every mailbox has its own lock; operations take it for the whole request so that a request sees
and leaves a consistent mailbox. Each modification gets a new ChangeKey and LastModifiedTime and
appends an entry to the folder's change log, which SyncFolderItems reads incrementally.
"""

from __future__ import annotations

import threading
import uuid
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ews_simulator.xml import Element


def new_id(prefix: str) -> str:
    # Exchange ids are opaque base64 blobs; a readable prefix keeps debugging output legible.
    return f"{prefix}{uuid.uuid4().hex}"


def new_change_key() -> str:
    return f"CQAAAB{uuid.uuid4().hex[:20]}"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Attachment:
    id: str
    name: str
    content_type: str
    content: bytes
    is_inline: bool = False
    content_id: str | None = None
    last_modified: datetime = field(default_factory=utcnow)
    # Set on item attachments: the attached item (outside any folder, with no id of its own).
    item: Item | None = None


ANY_PROPERTY = frozenset({"*"})
CHANGE_HISTORY = 64


@dataclass
class Item:
    id: str
    kind: str
    folder_id: str
    change_key: str = field(default_factory=new_change_key)
    created: datetime = field(default_factory=utcnow)
    last_modified: datetime = field(default_factory=utcnow)
    fields: dict[str, Element] = field(default_factory=dict)
    extended: dict[str, Element] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    # Recurring masters keep their exceptions (by instance index) and deleted instances.
    exceptions: dict[int, Item] = field(default_factory=dict)
    deleted_occurrences: set[int] = field(default_factory=set)
    # Set on exceptions: the master they belong to and which instance they replace.
    master_id: str | None = None
    instance_index: int | None = None

    # (change key, properties that change set), oldest first: how AutoResolve tells a stale
    # change key whose update touches only untouched properties from a real conflict.
    history: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append((self.change_key, ANY_PROPERTY))

    def touch(self, changed: frozenset[str] = ANY_PROPERTY) -> None:
        self.change_key = new_change_key()
        self.last_modified = utcnow()
        self.history.append((self.change_key, changed))
        del self.history[:-CHANGE_HISTORY]

    def changed_since(self, change_key: str) -> frozenset[str]:
        """Properties changed after the version `change_key` names; all, if it is unknown."""
        keys = [key for key, _ in self.history]
        if change_key not in keys:
            return ANY_PROPERTY
        later = self.history[keys.index(change_key) + 1 :]
        return frozenset().union(*(changed for _, changed in later))


CHANGE_CREATE = "Create"
CHANGE_UPDATE = "Update"
CHANGE_DELETE = "Delete"
CHANGE_READ_FLAG = "ReadFlagChange"


@dataclass
class Folder:
    id: str
    kind: str  # Folder, CalendarFolder, ContactsFolder, TasksFolder
    display_name: str
    folder_class: str | None
    parent_id: str | None
    distinguished: str | None = None
    change_key: str = field(default_factory=new_change_key)
    items: dict[str, Item] = field(default_factory=dict)
    # Folders every mailbox has: like distinguished ones, they cannot be moved or deleted.
    system: bool = False
    # Who may do what in the folder, as the client last set it (t:PermissionSet).
    permission_set: Element | None = None
    # (sequence number, item id, change kind), sequence numbers strictly increasing.
    log: list[tuple[int, str, str]] = field(default_factory=list)
    seq: int = 0

    def record(self, item_id: str, kind: str) -> None:
        self.seq += 1
        self.log.append((self.seq, item_id, kind))

    def changes_since(self, position: int) -> list[tuple[int, str, str]]:
        start = bisect_right(self.log, position, key=lambda entry: entry[0])
        return self.log[start:]


# (key, folder kind, display name, folder class, parent key): the folders of a new Exchange 2016
# mailbox. A key is the folder's distinguished id, or for folders without one a "~" name.
DEFAULT_FOLDERS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("root", "Folder", "", None, None),
    ("msgfolderroot", "Folder", "Top of Information Store", None, "root"),
    ("inbox", "Folder", "Inbox", "IPF.Note", "msgfolderroot"),
    ("outbox", "Folder", "Outbox", "IPF.Note", "msgfolderroot"),
    ("sentitems", "Folder", "Sent Items", "IPF.Note", "msgfolderroot"),
    ("drafts", "Folder", "Drafts", "IPF.Note", "msgfolderroot"),
    ("deleteditems", "Folder", "Deleted Items", "IPF.Note", "msgfolderroot"),
    ("junkemail", "Folder", "Junk Email", "IPF.Note", "msgfolderroot"),
    ("calendar", "CalendarFolder", "Calendar", "IPF.Appointment", "msgfolderroot"),
    ("contacts", "ContactsFolder", "Contacts", "IPF.Contact", "msgfolderroot"),
    (
        "recipientcache",
        "ContactsFolder",
        "Recipient Cache",
        "IPF.Contact.RecipientCache",
        "contacts",
    ),
    ("~gal", "ContactsFolder", "GAL Contacts", "IPF.Contact.GalContacts", "contacts"),
    (
        "~orgcontacts",
        "ContactsFolder",
        "Organizational Contacts",
        "IPF.Contact.OrganizationalContacts",
        "contacts",
    ),
    ("tasks", "TasksFolder", "Tasks", "IPF.Task", "msgfolderroot"),
    ("notes", "Folder", "Notes", "IPF.StickyNote", "msgfolderroot"),
    ("journal", "Folder", "Journal", "IPF.Journal", "msgfolderroot"),
    ("conversationhistory", "Folder", "Conversation History", None, "msgfolderroot"),
    ("~rss", "Folder", "RSS Feeds", "IPF.Note.OutlookHomepage", "msgfolderroot"),
    (
        "~conversationactions",
        "Folder",
        "Conversation Action Settings",
        "IPF.Configuration",
        "msgfolderroot",
    ),
    ("syncissues", "Folder", "Sync Issues", "IPF.Note", "msgfolderroot"),
    ("conflicts", "Folder", "Conflicts", None, "syncissues"),
    ("localfailures", "Folder", "Local Failures", None, "syncissues"),
    ("serverfailures", "Folder", "Server Failures", None, "syncissues"),
    ("searchfolders", "Folder", "Finder", None, "root"),
    ("recoverableitemsroot", "Folder", "Recoverable Items", None, "root"),
    ("recoverableitemsdeletions", "Folder", "Deletions", None, "recoverableitemsroot"),
    ("recoverableitemsversions", "Folder", "Versions", None, "recoverableitemsroot"),
    ("recoverableitemspurges", "Folder", "Purges", None, "recoverableitemsroot"),
    ("~calendarlogging", "Folder", "Calendar Logging", None, "recoverableitemsroot"),
    ("~audits", "Folder", "Audits", None, "recoverableitemsroot"),
    ("todosearch", "SearchFolder", "To-Do Search", "IPF.Task", "searchfolders"),
    ("~reminders", "SearchFolder", "Reminders", "Outlook.Reminder", "searchfolders"),
    ("~quicksteps", "Folder", "Quick Step Settings", "IPF.Configuration", "msgfolderroot"),
    ("~odatasync", "Folder", "ExchangeODataSyncData", None, "root"),
    *(
        (f"~{name}", "Folder", name, None, "root")
        for name in (
            "Common Views",
            "Deferred Action",
            "ExchangeSyncData",
            "Freebusy Data",
            "Location",
            "MailboxAssociations",
            "MergeState",
            "Calendar Version Store",
            "Schedule",
            "Shortcuts",
            "Spooler Queue",
            "System",
            "Views",
        )
    ),
)


class Mailbox:
    def __init__(self, smtp: str) -> None:
        self.smtp = smtp
        self.lock = threading.RLock()
        self.folders: dict[str, Folder] = {}
        self.distinguished: dict[str, str] = {}
        # item id -> folder id, so ids resolve without scanning folders
        self.item_folder: dict[str, str] = {}
        # The folder hierarchy's change log, (sequence number, folder id, change kind), which
        # SyncFolderHierarchy reads as SyncFolderItems reads a folder's.
        self.hierarchy_log: list[tuple[int, str, str]] = []
        self.hierarchy_seq = 0
        by_key: dict[str, str] = {}
        for key, kind, display, cls, parent in DEFAULT_FOLDERS:
            folder = self.add_folder(kind, display, cls, by_key[parent] if parent else None)
            by_key[key] = folder.id
            folder.system = True
            if not key.startswith("~"):
                folder.distinguished = key
                self.distinguished[key] = folder.id

    def add_folder(
        self, kind: str, display_name: str, folder_class: str | None, parent_id: str | None
    ) -> Folder:
        folder = Folder(new_id("AAMkF"), kind, display_name, folder_class, parent_id)
        self.folders[folder.id] = folder
        self.folder_changed(folder, CHANGE_CREATE)
        return folder

    def folder_changed(self, folder: Folder, kind: str = CHANGE_UPDATE) -> None:
        if kind != CHANGE_CREATE:
            folder.change_key = new_change_key()
        self.hierarchy_seq += 1
        self.hierarchy_log.append((self.hierarchy_seq, folder.id, kind))

    def hierarchy_changes_since(self, position: int) -> list[tuple[int, str, str]]:
        start = bisect_right(self.hierarchy_log, position, key=lambda entry: entry[0])
        return self.hierarchy_log[start:]

    def remove_folder(self, folder: Folder) -> None:
        """Remove a folder with its subfolders and every item in them."""
        for gone in [*self.descendants(folder.id), folder]:
            for item_id in gone.items:
                del self.item_folder[item_id]
            del self.folders[gone.id]
            self.hierarchy_seq += 1
            self.hierarchy_log.append((self.hierarchy_seq, gone.id, CHANGE_DELETE))

    def children(self, folder_id: str) -> list[Folder]:
        return [f for f in self.folders.values() if f.parent_id == folder_id]

    def descendants(self, folder_id: str) -> list[Folder]:
        out: list[Folder] = []
        for child in self.children(folder_id):
            out.append(child)
            out.extend(self.descendants(child.id))
        return out

    def find_item(self, item_id: str) -> Item | None:
        folder_id = self.item_folder.get(item_id)
        if folder_id is None:
            return None
        return self.folders[folder_id].items.get(item_id)

    def add_item(self, item: Item) -> None:
        folder = self.folders[item.folder_id]
        folder.items[item.id] = item
        self.item_folder[item.id] = folder.id
        folder.record(item.id, CHANGE_CREATE)

    def updated(
        self, item: Item, change: str = CHANGE_UPDATE, properties: frozenset[str] = ANY_PROPERTY
    ) -> None:
        item.touch(properties)
        self.folders[item.folder_id].record(item.id, change)

    def remove_item(self, item: Item) -> None:
        folder = self.folders[item.folder_id]
        del folder.items[item.id]
        del self.item_folder[item.id]
        folder.record(item.id, CHANGE_DELETE)

    def item_count(self) -> int:
        return len(self.item_folder)


class Store:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.mailboxes: dict[str, Mailbox] = {}

    def mailbox(self, smtp: str) -> Mailbox:
        key = smtp.strip().lower()
        with self._lock:
            box = self.mailboxes.get(key)
            if box is None:
                box = self.mailboxes[key] = Mailbox(key)
            return box

    def reset(self) -> None:
        with self._lock:
            self.mailboxes.clear()

    @contextmanager
    def lock_all(self) -> Iterator[None]:
        """Hold every mailbox lock, for a consistent snapshot of the whole store."""
        with self._lock, ExitStack() as stack:
            for box in list(self.mailboxes.values()):
                stack.enter_context(box.lock)
            yield
