"""Property paths (FieldURI, IndexedFieldURI, ExtendedFieldURI) and how they map onto stored items.

Items keep their properties as the XML elements clients sent, keyed by element name, so a path
is resolved to an element name (plus dictionary key and address part for indexed properties),
or to a canonical key for extended properties.
"""

from __future__ import annotations

from dataclasses import dataclass

from ews_simulator.soap import EwsError
from ews_simulator.xml import Element, local

# Indexed FieldURIs name one entry of a dictionary element.
INDEXED_DICTS = {
    "contacts:EmailAddress": "EmailAddresses",
    "contacts:PhoneNumber": "PhoneNumbers",
    "contacts:ImAddress": "ImAddresses",
    "contacts:PhysicalAddress": "PhysicalAddresses",
}

FIELD = "field"
INDEXED = "indexed"
EXTENDED = "extended"


@dataclass(frozen=True)
class Path:
    kind: str
    name: str  # element name, or an extended property's canonical key
    index: str | None = None  # dictionary entry key, e.g. EmailAddress1 or Business
    part: str | None = None  # physical address part, e.g. Street
    property_type: str | None = None  # extended properties only


def extended_key(uri: Element) -> str:
    """Canonical identity of an extended property, independent of how the client spelled it."""
    tag = uri.get("PropertyTag")
    if tag is not None:
        return f"tag:{int(tag, 16) if tag.lower().startswith('0x') else int(tag)}"
    prop_set = (uri.get("DistinguishedPropertySetId") or uri.get("PropertySetId") or "").lower()
    if uri.get("PropertyName") is not None:
        return f"name:{prop_set}:{uri.get('PropertyName')}"
    if uri.get("PropertyId") is not None:
        return f"id:{prop_set}:{int(uri.get('PropertyId') or '0')}"
    raise EwsError("ErrorInvalidExtendedProperty", "The extended property URI is incomplete.")


def parse_path(el: Element) -> Path:
    kind = local(el)
    uri = el.get("FieldURI") or ""
    if kind == "FieldURI":
        return Path(FIELD, uri.split(":", 1)[-1])
    if kind == "IndexedFieldURI":
        base, _, part = uri.partition(":PhysicalAddress:")
        if part:
            return Path(INDEXED, "PhysicalAddresses", el.get("FieldIndex"), part)
        if base in INDEXED_DICTS:
            return Path(INDEXED, INDEXED_DICTS[base], el.get("FieldIndex"))
        raise EwsError("ErrorInvalidIndexedPagingParameters", f"Unknown indexed field {uri}")
    if kind == "ExtendedFieldURI":
        return Path(EXTENDED, extended_key(el), property_type=el.get("PropertyType"))
    raise EwsError("ErrorInvalidPropertyRequest", f"Unknown property path {kind}")


PATH_ELEMENTS = ("FieldURI", "IndexedFieldURI", "ExtendedFieldURI")


def is_path(el: Element) -> bool:
    return local(el) in PATH_ELEMENTS
