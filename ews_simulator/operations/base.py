"""What every operation shares: the request context, the registry and response message builders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ews_simulator.ids import FOLDER_ID, check_change_key, check_id
from ews_simulator.soap import EwsError
from ews_simulator.store import Folder, Mailbox, Store
from ews_simulator.xml import Element, find_m, find_t, local, m, t


@dataclass
class OperationContext:
    store: Store
    mailbox: Mailbox
    body: Element  # the operation element, e.g. m:GetItem
    # A fault injected for this request that the operation itself must report.
    injected_error: str | None = None


Handler = Callable[[OperationContext], Element]
OPERATIONS: dict[str, Handler] = {}
# Children a response message type requires even when it reports an error.
REQUIRED_ON_ERROR: dict[str, tuple[str, ...]] = {
    "GetItem": ("Items",),
    "CreateItem": ("Items",),
    "UpdateItem": ("Items",),
    "MoveItem": ("Items",),
    "CopyItem": ("Items",),
    "CreateAttachment": ("Attachments",),
    "GetAttachment": ("Attachments",),
}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = handler
        return handler

    return register


def success(op: str, *children: Element) -> Element:
    msg = m(f"{op}ResponseMessage", ResponseClass="Success")
    msg.append(m("ResponseCode", "NoError"))
    for child in children:
        msg.append(child)
    return msg


def error(op: str, err: EwsError) -> Element:
    msg = m(f"{op}ResponseMessage", ResponseClass="Error")
    msg.append(m("MessageText", err.text))
    msg.append(m("ResponseCode", err.code))
    msg.append(m("DescriptiveLinkKey", "0"))
    if err.back_off_ms is not None:
        xml = m("MessageXml")
        xml.append(t("Value", str(err.back_off_ms), Name="BackOffMilliseconds"))
        msg.append(xml)
    for name in REQUIRED_ON_ERROR.get(op, ()):
        msg.append(m(name))
    if op == "SyncFolderItems":
        # exchangelib reads the sync state before it looks at the response class.
        msg.append(m("SyncState", ""))
        msg.append(m("IncludesLastItemInRange", "true"))
    return msg


def respond(op: str, messages: Iterable[Element]) -> Element:
    root = m(f"{op}Response")
    container = m("ResponseMessages")
    root.append(container)
    for msg in messages:
        container.append(msg)
    return root


def each(
    op: str, elements: Iterable[Element], handle: Callable[[Element], list[Element]]
) -> Element:
    """One response message per request element; an error affects only its own message."""
    messages = []
    for el in elements:
        try:
            messages.append(success(op, *handle(el)))
        except EwsError as e:
            messages.append(error(op, e))
    return respond(op, messages)


def folder_from_id(mailbox: Mailbox, el: Element) -> Folder:
    """Resolve a FolderId or DistinguishedFolderId element."""
    kind = local(el)
    if kind == "DistinguishedFolderId":
        owner = find_t(el, "Mailbox")
        address = find_t(owner, "EmailAddress") if owner is not None else None
        if address is not None and (address.text or "").strip().lower() != mailbox.smtp:
            raise EwsError("ErrorAccessDenied", "Access is denied to the other mailbox.")
        folder_id = mailbox.distinguished.get(el.get("Id") or "")
    elif kind in ("FolderId", "ParentFolderId"):
        folder_id = check_id(el.get("Id") or "", FOLDER_ID)
        check_change_key(el.get("ChangeKey"))
    else:
        raise EwsError("ErrorInvalidIdMalformed", f"Unexpected folder id element {kind}.")
    folder = mailbox.folders.get(folder_id or "")
    if folder is None:
        raise EwsError(
            "ErrorFolderNotFound", "The specified folder could not be found in the store."
        )
    return folder


def single_folder(mailbox: Mailbox, container: Element | None) -> Folder:
    if container is None or len(container) != 1:
        raise EwsError("ErrorInvalidRequest", "Exactly one target folder is required.")
    return folder_from_id(mailbox, container[0])


def required_m(el: Element, name: str) -> Element:
    found = find_m(el, name)
    if found is None:
        raise EwsError("ErrorInvalidRequest", f"{local(el)} lacks {name}.")
    return found
