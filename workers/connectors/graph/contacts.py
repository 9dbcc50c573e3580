"""Graph contacts ↔ canonical records (Outlook field names: workers.sync.contacts.mapping).

Graph's contact has no business fax or "other" phone: those are MAPI properties read and
written as single-value extended properties, like the CRM id tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workers.connectors.tag import GRAPH_TAG_PROPERTY_ID
from workers.sync.core.contact_values import normalized
from workers.sync.core.records import Record, Value

EXTENDED = "singleValueExtendedProperties"
# PidTagBusinessFaxNumber and PidTagOtherTelephoneNumber.
FAX_PROPERTY_ID = "String 0x3A24"
OTHER_PHONE_PROPERTY_ID = "String 0x3A1F"
_PROPERTY_FIELDS = {"business_fax": FAX_PROPERTY_ID, "other_phone": OTHER_PHONE_PROPERTY_ID}

_SIMPLE = {
    "title": "title",
    "first_name": "givenName",
    "middle_name": "middleName",
    "last_name": "surname",
    "suffix": "generation",
    "job_title": "jobTitle",
    "department": "department",
    "web_page": "businessHomePage",
    "company": "companyName",
    "nickname": "nickName",
    "office": "officeLocation",
    "profession": "profession",
    "manager": "manager",
    "assistant_name": "assistantName",
    "mobile_phone": "mobilePhone",
}
_FIRST_OF_LIST = {"business_phone": "businessPhones", "home_phone": "homePhones"}
_EMAILS = ("email1", "email2", "email3")
_ADDRESS_PARTS = {
    "street": "street",
    "city": "city",
    "state": "state",
    "postcode": "postalCode",
    "country": "countryOrRegion",
}
_ADDRESSES = {
    f"{kind}_{part}": (f"{kind}Address", attribute)
    for kind in ("business", "home")
    for part, attribute in _ADDRESS_PARTS.items()
}
_NAME_FIELDS = ("first_name", "middle_name", "last_name", "company", "email1")


def _display_name(record: Mapping[str, Value]) -> str:
    names = [record.get(n) for n in ("first_name", "middle_name", "last_name")]
    text = " ".join(str(n) for n in names if n)
    return text or str(record.get("company") or record.get("email1") or "(no name)")


def _text(value: Value) -> str | None:
    return None if value is None else str(value)


def _properties(item: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(p.get("id", "")).lower(): str(p.get("value", ""))
        for p in item.get(EXTENDED) or []
        if isinstance(p, dict)
    }


@dataclass(frozen=True)
class GraphContactCodec:
    """Builds and reads Graph contacts for the fields an admin's mapping names."""

    fields: tuple[str, ...]

    @property
    def query(self) -> dict[str, str]:
        wanted = {"id", "changeKey", "lastModifiedDateTime", "displayName"}
        for name in self.fields:
            if name in _SIMPLE:
                wanted.add(_SIMPLE[name])
            elif name in _FIRST_OF_LIST:
                wanted.add(_FIRST_OF_LIST[name])
            elif name in _EMAILS:
                wanted.add("emailAddresses")
            elif name in _ADDRESSES:
                wanted.add(_ADDRESSES[name][0])
        ids = [GRAPH_TAG_PROPERTY_ID] + [
            _PROPERTY_FIELDS[n] for n in self.fields if n in _PROPERTY_FIELDS
        ]
        expand = " or ".join(f"id eq '{i}'" for i in ids)
        return {"$select": ",".join(sorted(wanted)), "$expand": f"{EXTENDED}($filter={expand})"}

    def to_record(self, item: Mapping[str, Any], base: Record) -> dict[str, Value]:
        values: dict[str, Value] = {}
        emails = [e.get("address") for e in item.get("emailAddresses") or [] if e]
        properties = _properties(item)
        for name in self.fields:
            if name in _SIMPLE:
                values[name] = item.get(_SIMPLE[name])
            elif name in _FIRST_OF_LIST:
                listed = item.get(_FIRST_OF_LIST[name]) or []
                values[name] = listed[0] if listed else None
            elif name in _EMAILS:
                index = _EMAILS.index(name)
                values[name] = emails[index] if index < len(emails) else None
            elif name in _ADDRESSES:
                address, attribute = _ADDRESSES[name]
                values[name] = (item.get(address) or {}).get(attribute)
            elif name in _PROPERTY_FIELDS:
                values[name] = properties.get(_PROPERTY_FIELDS[name].lower())
        return normalized(values)

    def tag_of(self, item: Mapping[str, Any]) -> str | None:
        return _properties(item).get(GRAPH_TAG_PROPERTY_ID.lower()) or None

    def tag_filter(self, tag: str) -> str | None:
        quoted = tag.replace("'", "''")
        return f"{EXTENDED}/any(ep: ep/id eq '{GRAPH_TAG_PROPERTY_ID}' and ep/value eq '{quoted}')"

    def new_body(self, record: Record, tag: str) -> dict[str, Any]:
        body = self._assign(record, list(record))
        body[EXTENDED] = [*body.get(EXTENDED, []), {"id": GRAPH_TAG_PROPERTY_ID, "value": tag}]
        body["displayName"] = body["fileAs"] = _display_name(record)
        return body

    def changed_body(
        self, full: Record, changed: Sequence[str], retag: str | None
    ) -> dict[str, Any]:
        """A PATCH carrying `changed` (list and address fields taken whole from `full`)."""
        body = self._assign(full, changed)
        if any(name in _NAME_FIELDS for name in changed):
            body["displayName"] = _display_name(full)
        if retag is not None:
            # The planner matched an item carrying another CRM item's tag: it is this one's.
            body[EXTENDED] = [
                *body.get(EXTENDED, []),
                {"id": GRAPH_TAG_PROPERTY_ID, "value": retag},
            ]
        return body

    def _assign(self, record: Mapping[str, Value], names: Sequence[str]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in names:
            if name in _SIMPLE:
                body[_SIMPLE[name]] = _text(record.get(name))
            elif name in _FIRST_OF_LIST:
                value = record.get(name)
                body[_FIRST_OF_LIST[name]] = [str(value)] if value else []
            elif name in _PROPERTY_FIELDS:
                # An extended property cannot be emptied by a PATCH: an empty string stands in.
                body.setdefault(EXTENDED, []).append(
                    {"id": _PROPERTY_FIELDS[name], "value": _text(record.get(name)) or ""}
                )
        if any(name in _EMAILS for name in names):
            body["emailAddresses"] = [
                {"address": str(record[n]), "name": str(record[n])}
                for n in _EMAILS
                if record.get(n)
            ]
        for address in {a for n, (a, _) in _ADDRESSES.items() if n in names}:
            body[address] = {
                attribute: _text(record.get(n)) or ""
                for n, (a, attribute) in _ADDRESSES.items()
                if a == address
            }
        return body
