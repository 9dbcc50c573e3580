"""FindPeople and GetPersona over the mailbox's contacts.

Exchange merges contacts and directory entries into personas; the simulator has no directory,
so each contact is a persona of its own, named by the contact's id. Both operations answer with
a single response message rather than a ResponseMessages list.
"""

from __future__ import annotations

from ews_simulator.ids import check_id
from ews_simulator.items import text_value
from ews_simulator.operations.base import OperationContext, folder_from_id, operation
from ews_simulator.soap import EwsError
from ews_simulator.store import Folder, Item
from ews_simulator.xml import Element, find_m, m, t

PERSONA_PARTS = ("DisplayName", "GivenName", "Surname")


def _message(name: str, *children: Element, err: EwsError | None = None) -> Element:
    el = m(name, ResponseClass="Error" if err else "Success")
    if err is not None:
        el.append(m("MessageText", err.text))
    el.append(m("ResponseCode", err.code if err else "NoError"))
    if err is not None:
        el.append(m("DescriptiveLinkKey", "0"))
        if name == "GetPersonaResponseMessage":
            # The schema requires a Persona even in an error message.
            persona = m("Persona")
            persona.append(t("PersonaId", Id=""))
            el.append(persona)
    for child in children:
        el.append(child)
    return el


def _persona(contact: Item) -> Element:
    el = t("Persona")
    el.append(t("PersonaId", Id=contact.id))
    el.append(t("PersonaType", "Person"))
    for name in PERSONA_PARTS:
        value = text_value(contact, name)
        if value:
            el.append(t(name, value))
    return el


def _matches(contact: Item, wanted: list[str]) -> bool:
    name = (text_value(contact, "DisplayName") or "").lower()
    return all(w.lower() in name for w in wanted)


@operation("FindPeople")
def find_people(ctx: OperationContext) -> Element:
    try:
        parent = find_m(ctx.body, "ParentFolderId")
        folder: Folder = (
            folder_from_id(ctx.mailbox, parent[0])
            if parent is not None and len(parent)
            else ctx.mailbox.folders[ctx.mailbox.distinguished["contacts"]]
        )
    except EwsError as e:
        return _message("FindPeopleResponse", err=e)
    # Restrictions and query strings are matched against the display name, which is what
    # Exchange's people search ranks on.
    wanted = [c.get("Value") or "" for c in ctx.body.iter() if c.get("Value") is not None]
    query = find_m(ctx.body, "QueryString")
    if query is not None and query.text:
        wanted.append(query.text.split(":", 1)[-1])
    contacts = [i for i in folder.items.values() if i.kind == "Contact" and _matches(i, wanted)]
    contacts.sort(key=lambda c: (text_value(c, "DisplayName") or "").lower())
    view = find_m(ctx.body, "IndexedPageItemView")
    offset = int(view.get("Offset") or 0) if view is not None else 0
    limit = int(view.get("MaxEntriesReturned") or 100) if view is not None else 100
    people = m("People")
    for contact in contacts[offset : offset + limit]:
        people.append(_persona(contact))
    return _message(
        "FindPeopleResponse",
        people,
        m("TotalNumberOfPeopleInView", str(len(contacts))),
        m("FirstMatchingRowIndex", str(offset)),
        m("FirstLoadedRowIndex", str(offset)),
    )


@operation("GetPersona")
def get_persona(ctx: OperationContext) -> Element:
    try:
        id_el = find_m(ctx.body, "PersonaId")
        if id_el is None:
            raise EwsError("ErrorInvalidRequest", "GetPersona needs a PersonaId.")
        contact = ctx.mailbox.find_item(check_id(id_el.get("Id") or ""))
        if contact is None or contact.kind != "Contact":
            raise EwsError("ErrorItemNotFound", "The persona was not found.")
    except EwsError as e:
        return _message("GetPersonaResponseMessage", err=e)
    # The response's Persona is in the messages namespace, its parts in the types namespace.
    persona = m("Persona")
    persona.extend(list(_persona(contact)))
    return _message("GetPersonaResponseMessage", persona)
