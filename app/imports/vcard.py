"""vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350) read as CRM person values, card by card.

vobject parses each card (folding, escapes, 2.1's bare parameters and quoted-printable values,
structured values); this module only frames the stream into cards and maps what a CRM person
holds: N, FN, ORG, TITLE, EMAIL, TEL, ADR and URL. Other properties (photos, notes, X-
extensions) are skipped. Cards are framed here rather than by `vobject.readComponents` so that
one malformed card is that card's problem, not the end of the file, and a card cut off at the
end still counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import vobject
from vobject.base import ContentLine, VObjectError

PersonFields = dict[str, str]

# Types that say nothing about whose an address is, so such an address counts as untyped.
_NEUTRAL_ADDRESS_TYPES = {"pref", "postal", "parcel", "intl", "dom"}
_BEGIN = "BEGIN:VCARD"
_END = "END:VCARD"


@dataclass(frozen=True)
class CardReading:
    """One card's person values, or why the card could not be read."""

    values: PersonFields
    problem: str | None = None


@dataclass(frozen=True)
class _Property:
    name: str  # upper case, group prefix removed
    types: frozenset[str]  # lower case, from TYPE=… and 2.1's bare parameters
    value: object  # as vobject decoded it: text, or a structured Name/Address/list
    preferred: bool


def _text(value: object) -> str:
    """A component's text, its line breaks as "\\n"; lists within a component are joined by
    spaces."""
    if isinstance(value, list | tuple):
        return " ".join(part for part in (_text(item) for item in value) if part)
    text = str(value) if value is not None else ""
    # Quoted-printable values carry the writer's own line breaks, CRLF from Outlook.
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _property(line: ContentLine) -> _Property | None:
    if isinstance(line.value, bytes):  # photos, sounds, keys: nothing a person row holds
        return None
    types = {
        kind.strip().lower()
        for argument in line.params.get("TYPE", [])
        for kind in str(argument).split(",")
        if kind.strip()
    }
    types.update(bare.lower() for bare in line.singletonparams)
    return _Property(
        name=line.name.upper(),
        types=frozenset(types),
        value=line.value,
        preferred="PREF" in line.params or "pref" in types,
    )


def _without_scheme(value: str, scheme: str) -> str:
    return value[len(scheme) :] if value.lower().startswith(scheme) else value


def _put(values: PersonFields, path: str, value: str) -> None:
    if value and path not in values:
        values[path] = value


def _email_slots(emails: list[_Property]) -> PersonFields:
    """Work, internet and untyped addresses go to 'Business' first, home ones to 'Private'
    first; each takes the other slot when its own is taken, preferred addresses choose first."""
    values: PersonFields = {}
    for prop in sorted(emails, key=lambda p: not p.preferred):
        address = _without_scheme(_text(prop.value), "mailto:")
        order = ("Private", "Business") if "home" in prop.types else ("Business", "Private")
        free = [kind for kind in order if f"email.{kind}" not in values]
        if address and free:
            values[f"email.{free[0]}"] = address
    return values


def _phone_kind(types: frozenset[str]) -> str:
    if "fax" in types:
        return "Fax"
    if "cell" in types or "mobile" in types:
        return "Mobile"
    if "home" in types:
        return "Home"
    return "Business"


def _address(addresses: list[_Property]) -> PersonFields:
    """The work address, else an untyped one; a home address is not a CRM person's business
    address, so it is left out."""
    work = [a for a in addresses if "work" in a.types]
    untyped = [a for a in addresses if not a.types - _NEUTRAL_ADDRESS_TYPES]
    candidates = work or untyped
    if not candidates:
        return {}
    adr = candidates[0].value
    street_parts = (getattr(adr, name, "") for name in ("street", "extended", "box"))
    fields = {
        "address.street": "\n".join(text for text in map(_text, street_parts) if text),
        "address.addr_city": _text(getattr(adr, "city", "")),
        "address.addr_state": _text(getattr(adr, "region", "")),
        "address.addr_postcode": _text(getattr(adr, "code", "")),
        "address.addr_country": _text(getattr(adr, "country", "")),
    }
    return {path: value for path, value in fields.items() if value}


def _name_values(values: PersonFields, name: object) -> None:
    for path, component in (
        ("pers_lastname", "family"),
        ("pers_firstname", "given"),
        ("pers_middlename", "additional"),
        ("pers_salutation", "prefix"),
        ("pers_suffix", "suffix"),
    ):
        _put(values, path, _text(getattr(name, component, "")))


def _organization_values(values: PersonFields, organization: object) -> None:
    units = organization if isinstance(organization, list) else [organization]
    company, department = [*map(_text, units), "", ""][:2]
    _put(values, "company.comp_name", company)
    _put(values, "pers_department", department)


def card_values(properties: list[_Property]) -> PersonFields:
    values: PersonFields = {}
    full_name = ""
    emails: list[_Property] = []
    addresses: list[_Property] = []
    for prop in properties:
        if prop.name == "N":
            _name_values(values, prop.value)
        elif prop.name == "FN":
            full_name = full_name or _text(prop.value)
        elif prop.name == "ORG":
            _organization_values(values, prop.value)
        elif prop.name == "TITLE":
            _put(values, "pers_title", _text(prop.value))
        elif prop.name == "URL":
            _put(values, "pers_website", _text(prop.value))
        elif prop.name == "EMAIL":
            emails.append(prop)
        elif prop.name == "TEL":
            number = _without_scheme(_text(prop.value), "tel:")
            _put(values, f"phone.{_phone_kind(prop.types)}", number)
        elif prop.name == "ADR":
            addresses.append(prop)
    values.update(_email_slots(emails))
    values.update(_address(addresses))
    has_name = "pers_firstname" in values or "pers_lastname" in values
    # An organization's card repeats the company as FN; that is no person's name.
    if full_name and not has_name and full_name != values.get("company.comp_name"):
        *given_names, family_name = full_name.split()
        _put(values, "pers_lastname", family_name)
        _put(values, "pers_firstname", " ".join(given_names))
    return values


def _card_texts(lines: Iterable[str]) -> Iterator[str]:
    """Each top-level card's text, nested cards (2.1's AGENT) inside it; a card cut off at the
    end of the stream is closed."""
    card: list[str] = []
    depth = 0
    for raw in lines:
        line = raw.rstrip("\r\n")
        marker = line.strip().upper()
        if marker == _BEGIN:
            depth += 1
        if depth:
            card.append(line)
        if marker == _END and depth:
            depth -= 1
            if depth == 0:
                yield "\r\n".join(card) + "\r\n"
                card = []
    if card:
        yield "\r\n".join([*card, *[_END] * depth]) + "\r\n"


def _read_card(text: str) -> CardReading:
    try:
        card = vobject.readOne(text, ignoreUnreadable=True, allowQP=True)
    except (VObjectError, ValueError, UnicodeError) as exc:
        return CardReading({}, f"unreadable vCard: {exc}")
    lines = [child for child in card.getChildren() if isinstance(child, ContentLine)]
    return CardReading(card_values([p for p in map(_property, lines) if p is not None]))


def read_cards(lines: Iterable[str]) -> Iterator[CardReading]:
    """The person values of each card, in file order; cards nested inside another (2.1's
    AGENT) are skipped with it."""
    for text in _card_texts(lines):
        yield _read_card(text)
