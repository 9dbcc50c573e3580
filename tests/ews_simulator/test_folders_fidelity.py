"""Folder operations, well-known folders, generic items, malformed ids and handler failures."""

from __future__ import annotations

import pytest
from exchangelib import Account, Contact, DistributionList, ExtendedProperty, HTMLBody, Message, Q
from exchangelib.errors import (
    ErrorCannotDeleteObject,
    ErrorDeleteDistinguishedFolder,
    ErrorFolderExists,
    ErrorFolderNotFound,
    ErrorInternalServerError,
    ErrorInvalidChangeKey,
    ErrorInvalidIdMalformed,
    ErrorItemNotFound,
)
from exchangelib.folders import (
    Folder,
    FolderCollection,
    JunkEmail,
    Outbox,
    RecoverableItemsDeletions,
    RecoverableItemsRoot,
    SyncIssues,
)
from exchangelib.items import Item, Persona
from exchangelib.services import EmptyFolder, GetPersona

from ews_simulator.operations import OPERATIONS
from ews_simulator.operations.base import OperationContext
from ews_simulator.testing import SimulatorServer
from ews_simulator.xml import Element
from tests.ews_simulator.test_server import ENVELOPE, post


@pytest.mark.parametrize(
    ("folder_class", "name"),
    [
        (Outbox, "Outbox"),
        (JunkEmail, "Junk Email"),
        (SyncIssues, "Sync Issues"),
        (RecoverableItemsRoot, "Recoverable Items"),
        (RecoverableItemsDeletions, "Deletions"),
    ],
)
def test_well_known_folders_exist(account: Account, folder_class: type[Folder], name: str) -> None:
    folder = folder_class.get_distinguished(account.root)
    assert folder.name == name


def test_rename_move_and_delete_a_folder(account: Account) -> None:
    folder = Folder(parent=account.inbox, name="Projects").save()
    folder.name = "Clients"
    folder.save(update_fields=["name"])
    archive = Folder(parent=account.inbox, name="Archive").save()
    folder.move(archive)
    account.root.clear_cache()
    assert [f.name for f in account.inbox.refresh().children] == ["Archive"]
    moved = [f for f in account.inbox.walk() if f.name == "Clients"]
    assert len(moved) == 1
    assert moved[0].parent_folder_id.id == archive.id
    archive.delete()
    with pytest.raises(ErrorFolderNotFound):
        moved[0].refresh()


def test_distinguished_folders_cannot_be_deleted(account: Account) -> None:
    with pytest.raises(ErrorDeleteDistinguishedFolder):
        account.inbox.delete()


def test_empty_folder_removes_items_and_optionally_subfolders(account: Account) -> None:
    folder = Folder(parent=account.inbox, name="Busy").save()
    Folder(parent=folder, name="Child").save()
    Message(folder=folder, subject="one").save()
    Message(folder=folder, subject="two").save()
    folder.empty(delete_sub_folders=False)
    assert folder.all().count() == 0
    assert [f.name for f in folder.refresh().children] == ["Child"]
    list(
        EmptyFolder(account=account).call(
            folders=[folder], delete_type="HardDelete", delete_sub_folders=True
        )
    )
    account.root.clear_cache()
    assert folder.refresh().child_folder_count == 0


def test_sync_folder_hierarchy_reports_creates_updates_and_deletes(account: Account) -> None:
    inbox = account.inbox
    assert list(inbox.sync_hierarchy()) == []  # the inbox starts without subfolders
    kept = Folder(parent=inbox, name="Kept").save()
    first = list(inbox.sync_hierarchy())
    assert [(kind, f.name) for kind, f in first] == [("create", "Kept")]
    gone = Folder(parent=inbox, name="Gone").save()
    gone_id = gone.id
    list(inbox.sync_hierarchy())
    gone.delete()
    kept.name = "Renamed"
    kept.save(update_fields=["name"])
    changes = list(inbox.sync_hierarchy())
    assert ("update", "Renamed") in [(kind, getattr(v, "name", None)) for kind, v in changes]
    assert ("delete", gone_id) in [(kind, v.id) for kind, v in changes]
    assert list(inbox.sync_hierarchy()) == []


def test_generic_items_are_created_read_and_deleted(account: Account) -> None:
    item = Item(folder=account.inbox, subject="A generic item", categories=["x"]).save()
    fetched = account.inbox.get(id=item.id)
    assert type(fetched) is Item
    assert fetched.subject == "A generic item"
    assert fetched.categories == ["x"]
    item.delete()
    assert account.inbox.all().count() == 0


def test_malformed_ids_and_change_keys_are_refused(account: Account) -> None:
    saved = Message(folder=account.drafts, subject="m").save()
    bad_key, bad_id, missing = account.fetch(
        ids=[(saved.id, "XXX"), ("AAAA==", None), ("AAMkI" + "0" * 32, None)]
    )
    assert isinstance(bad_key, ErrorInvalidChangeKey)
    assert isinstance(bad_id, ErrorInvalidIdMalformed)
    assert isinstance(missing, ErrorItemNotFound)
    with pytest.raises(ErrorInvalidIdMalformed):
        Folder(root=account.root, id="XXX", changekey=None).refresh()


def test_a_failing_handler_answers_a_server_fault(
    sim: SimulatorServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: OperationContext) -> Element:
        raise RuntimeError("a bug")

    monkeypatch.setitem(OPERATIONS, "GetFolder", broken)
    request = (
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'
    )
    response = post(sim, ENVELOPE.format(request).encode())
    assert response.status_code == 500
    assert "ErrorInternalServerError" in response.text
    with pytest.raises(ErrorInternalServerError):
        account.inbox.refresh()


def test_the_mailbox_has_exchange_s_folder_tree(account: Account) -> None:
    names = {f.name for f in account.root.walk()}
    assert {"Common Views", "Finder", "Recoverable Items", "GAL Contacts", "RSS Feeds"} <= names
    assert account.root.tois.folder_class is None
    assert len(list(account.contacts.walk())) >= 2


def test_folder_names_are_unique_regardless_of_case(account: Account) -> None:
    Folder(parent=account.inbox, name="Clients").save()
    with pytest.raises(ErrorFolderExists, match="Could not create folder 'clients'"):
        Folder(parent=account.inbox, name="clients").save()


def test_soft_deleted_items_wait_in_recoverable_items(account: Account) -> None:
    message = Message(folder=account.inbox, subject="gone soon").save()
    message.soft_delete()
    assert account.inbox.all().count() == 0
    assert account.trash.all().count() == 0
    assert [m.subject for m in account.recoverable_items_deletions.all()] == ["gone soon"]


def test_mark_as_junk_moves_between_junk_and_inbox(account: Account) -> None:
    message = Message(folder=account.inbox, subject="offer").save()
    message.mark_as_junk(is_junk=True, move_item=True)
    assert [m.subject for m in account.junk.all()] == ["offer"]
    message.mark_as_junk(is_junk=False, move_item=True)
    assert [m.subject for m in account.inbox.all()] == ["offer"]


def test_text_body_is_derived_from_an_html_body(account: Account) -> None:
    Message(folder=account.inbox, subject="html", body=HTMLBody("<p>Hello <b>you</b></p>")).save()
    (fetched,) = account.inbox.all().only("text_body")
    assert fetched.text_body == "Hello you"


def test_distribution_lists_are_created_in_contacts(account: Account) -> None:
    DistributionList(folder=account.contacts, display_name="Sales team").save()
    (found,) = account.contacts.filter(display_name="Sales team")
    assert isinstance(found, DistributionList)


def test_people_are_found_among_contacts_and_read_as_personas(account: Account) -> None:
    Contact(folder=account.contacts, display_name="John Smith", surname="Smith").save()
    Contact(folder=account.contacts, display_name="Ann Lee", surname="Lee").save()
    found = list(account.contacts.people().filter(display_name="john"))
    assert [p.display_name for p in found] == ["John Smith"]
    (persona,) = account.fetch_personas(found)
    assert persona.surname == "Smith"
    with pytest.raises(ErrorInvalidIdMalformed):
        GetPersona(account=account).get(personas=[Persona(id="AAA=", changekey="x")])


def test_folder_restrictions_honour_containment_mode_and_case(account: Account) -> None:
    Folder(parent=account.inbox, name="Projects 2024").save()
    inbox = FolderCollection(account=account, folders=[account.inbox])
    found = inbox.find_folders(q=Q(name__startswith="Proj"))
    assert [f.name for f in found] == ["Projects 2024"]
    assert list(inbox.find_folders(q=Q(name__startswith="proj"))) == []


def test_folder_size_is_readable_as_an_extended_property(account: Account) -> None:
    class FolderSize(ExtendedProperty):
        property_tag = 0x0E08
        property_type = "Long"

    Message(folder=account.inbox, subject="weight").save()
    Folder.register("size", FolderSize)
    try:
        account.inbox.refresh()
        assert account.inbox.size > 0
    finally:
        Folder.deregister("size")


def test_system_folders_cannot_be_deleted(account: Account) -> None:
    common_views = account.root / "Common Views"
    with pytest.raises(ErrorCannotDeleteObject):
        common_views.delete()
    assert (account.root / "Common Views").id == common_views.id
