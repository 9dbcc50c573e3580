"""Exchange contacts ↔ canonical records (Outlook field names: workers.sync.contacts.mapping)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchangelib import Contact
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress

from workers.connectors.ews.properties import TAG_FIELD, TITLE_FIELD
from workers.sync.core.contact_values import normalized
from workers.sync.core.records import Record, Value

# Outlook field → exchangelib Contact attribute, for plain text fields.
_SIMPLE = {
    "title": TITLE_FIELD,
    "first_name": "given_name",
    "middle_name": "middle_name",
    "last_name": "surname",
    "suffix": "generation",
    "job_title": "job_title",
    "department": "department",
    "web_page": "business_homepage",
    "company": "company_name",
    "nickname": "nickname",
    "office": "office",
    "profession": "profession",
    "manager": "manager",
    "assistant_name": "assistant_name",
}
_EMAILS = {"email1": "EmailAddress1", "email2": "EmailAddress2", "email3": "EmailAddress3"}
_PHONES = {
    "business_phone": "BusinessPhone",
    "home_phone": "HomePhone",
    "mobile_phone": "MobilePhone",
    "business_fax": "BusinessFax",
    "other_phone": "OtherTelephone",
}
_ADDRESS_PARTS = {
    "street": "street",
    "city": "city",
    "state": "state",
    "postcode": "zipcode",
    "country": "country",
}
_ADDRESSES = {
    f"{kind.lower()}_{part}": (kind, attribute)
    for kind in ("Business", "Home")
    for part, attribute in _ADDRESS_PARTS.items()
}
# Each group is one exchangelib attribute holding several Outlook fields: an update must send
# the whole group, or exchangelib deletes the entries it was not given.
_GROUPS: dict[str, tuple[str, ...]] = {
    "email_addresses": tuple(_EMAILS),
    "phone_numbers": tuple(_PHONES),
    "physical_addresses": tuple(_ADDRESSES),
}
_NAME_FIELDS = ("first_name", "middle_name", "last_name", "company", "email1")


def _display_name(record: Record) -> str:
    names = [record.get(n) for n in ("first_name", "middle_name", "last_name")]
    text = " ".join(str(n) for n in names if n)
    return text or str(record.get("company") or record.get("email1") or "(no name)")


@dataclass(frozen=True)
class ContactCodec:
    """Builds and reads exchangelib contacts for the fields an admin's mapping names."""

    fields: tuple[str, ...]

    @property
    def only_fields(self) -> list[str]:
        wanted = {TAG_FIELD, "last_modified_time"}
        for name in self.fields:
            if name in _SIMPLE:
                wanted.add(_SIMPLE[name])
            for attribute, members in _GROUPS.items():
                if name in members:
                    wanted.add(attribute)
        return sorted(wanted)

    def to_record(self, item: Contact) -> dict[str, Value]:
        values: dict[str, Value] = {}
        emails = {e.label: e.email for e in item.email_addresses or ()}
        phones = {p.label: p.phone_number for p in item.phone_numbers or ()}
        addresses = {a.label: a for a in item.physical_addresses or ()}
        for name in self.fields:
            if name in _SIMPLE:
                values[name] = getattr(item, _SIMPLE[name], None)
            elif name in _EMAILS:
                values[name] = emails.get(_EMAILS[name])
            elif name in _PHONES:
                values[name] = phones.get(_PHONES[name])
            elif name in _ADDRESSES:
                kind, attribute = _ADDRESSES[name]
                address = addresses.get(kind)
                values[name] = getattr(address, attribute, None) if address else None
        return normalized(values)

    def tag_of(self, item: Contact) -> str | None:
        tag = getattr(item, TAG_FIELD, None)
        return str(tag) if tag else None

    def new_item(self, record: Record, tag: str, account: Any, folder: Any) -> Contact:
        item = Contact(account=account, folder=folder)
        self._assign(item, record, record.keys())
        setattr(item, TAG_FIELD, tag)
        item.display_name = _display_name(record)
        item.file_as = item.display_name
        return item

    def changed_item(
        self, item_id: str, change_key: str | None, full: Record, changed: Sequence[str]
    ) -> tuple[Contact, list[str]]:
        """A contact carrying `changed` (grouped fields taken whole from `full`) to update."""
        item = Contact(id=item_id, changekey=change_key)
        fieldnames = self._assign(item, full, changed)
        if any(name in _NAME_FIELDS for name in changed):
            item.display_name = _display_name(full)
            fieldnames.append("display_name")
        return item, fieldnames

    def _assign(self, item: Contact, record: Mapping[str, Value], names: Any) -> list[str]:
        fieldnames: list[str] = []
        for name in names:
            if name in _SIMPLE:
                setattr(item, _SIMPLE[name], _text(record.get(name)))
                fieldnames.append(_SIMPLE[name])
        for attribute, build in _GROUP_BUILDERS.items():
            if any(name in _GROUPS[attribute] for name in names):
                setattr(item, attribute, build(record) or None)
                fieldnames.append(attribute)
        return fieldnames


def _text(value: Value) -> str | None:
    return None if value is None else str(value)


def _emails(record: Mapping[str, Value]) -> list[EmailAddress]:
    return [
        EmailAddress(email=str(record[name]), label=label)
        for name, label in _EMAILS.items()
        if record.get(name)
    ]


def _phones(record: Mapping[str, Value]) -> list[PhoneNumber]:
    return [
        PhoneNumber(phone_number=str(record[name]), label=label)
        for name, label in _PHONES.items()
        if record.get(name)
    ]


def _addresses(record: Mapping[str, Value]) -> list[PhysicalAddress]:
    by_kind: dict[str, dict[str, str]] = {}
    for name, (kind, attribute) in _ADDRESSES.items():
        value = record.get(name)
        if value:
            by_kind.setdefault(kind, {})[attribute] = str(value)
    return [PhysicalAddress(label=kind, **parts) for kind, parts in by_kind.items()]


_GROUP_BUILDERS: dict[str, Callable[[Mapping[str, Value]], list[Any]]] = {
    "email_addresses": _emails,
    "phone_numbers": _phones,
    "physical_addresses": _addresses,
}
