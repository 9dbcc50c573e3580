"""Responses have the shapes of Microsoft's published EWS reference samples (see the fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from exchangelib import Account, Contact
from exchangelib.errors import ErrorItemNotFound
from lxml import etree

from ews_simulator.testing import SimulatorServer
from ews_simulator.xml import Element

SHAPES = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "ews" / "reference_shapes.json").read_text()
)


def _local(el: Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


class Capture:
    def __init__(self) -> None:
        self.responses: dict[str, list[Element]] = {}

    def __call__(self, operation: str, _request: Element, response: Element) -> None:
        self.responses.setdefault(operation, []).append(response)

    def message(self, operation: str, name: str) -> Element:
        for response in self.responses.get(operation, []):
            for el in response.iter():
                if _local(el) == name:
                    return el
        raise AssertionError(f"no {name} in the {operation} responses")


@pytest.fixture
def captured(sim: SimulatorServer, account: Account) -> Capture:
    capture = Capture()
    sim.add_observer(capture)
    contact = Contact(account=account, folder=account.contacts, display_name="A", surname="A")
    contact.save()
    contact.job_title = "B"
    contact.save(update_fields=["job_title"])
    list(account.contacts.all().only("surname"))
    list(account.contacts.sync_items(only_fields=["surname"]))
    deleted_id = contact.id
    contact.delete()
    (missing,) = account.fetch(ids=[(deleted_id, None)])
    assert isinstance(missing, ErrorItemNotFound)
    return capture


@pytest.mark.parametrize(
    "operation",
    ["GetFolder", "FindItem", "CreateItem", "UpdateItem", "DeleteItem", "SyncFolderItems"],
)
def test_response_message_children_in_reference_order(captured: Capture, operation: str) -> None:
    shape = SHAPES[operation]
    message = captured.message(operation, shape["message"])
    assert message.get("ResponseClass") == "Success"
    assert [_local(child) for child in message] == shape["children"]


def test_find_item_root_folder_attributes(captured: Capture) -> None:
    shape = SHAPES["FindItem"]["RootFolder"]
    root = captured.message("FindItem", "RootFolder")
    assert set(shape["attributes"]) <= set(root.attrib)
    assert [_local(child) for child in root] == shape["children"]


def test_created_item_ids_carry_id_and_change_key(captured: Capture) -> None:
    item_id = captured.message("CreateItem", "ItemId")
    assert set(SHAPES["CreateItem"]["item_id_attributes"]) <= set(item_id.attrib)


def test_server_version_info_header(sim: SimulatorServer) -> None:
    envelope = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
        'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body>'
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'
        "</s:Body></s:Envelope>"
    )
    response = httpx.post(
        sim.ews_url,
        content=envelope,
        headers={"Content-Type": "text/xml"},
        auth=("shape@example.com", "x"),
    )
    info = next(
        el for el in etree.fromstring(response.content).iter() if _local(el) == "ServerVersionInfo"
    )
    assert set(SHAPES["ServerVersionInfo"]["attributes"]) <= set(info.attrib)
    assert info.get("MajorVersion") == "15" and info.get("MinorVersion") == "1"


def test_error_message_shape(captured: Capture) -> None:
    shape = SHAPES["Error"]
    message = captured.message("GetItem", shape["message"])
    assert message.get("ResponseClass") == shape["response_class"]
    assert [_local(child) for child in message] == shape["children"]
