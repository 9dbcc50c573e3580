"""vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350) read as CRM person values, card by card.

Only what a CRM person holds is read: N, FN, ORG, TITLE, EMAIL, TEL, ADR and URL. Folded lines,
escapes, 2.1's bare parameters and quoted-printable values are understood; other properties
(photos, notes, X- extensions) are skipped.
"""

from __future__ import annotations

import quopri
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PersonFields = dict[str, str]

_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}
# Types that say nothing about whose an address is, so such an address counts as untyped.
_NEUTRAL_ADDRESS_TYPES = {"pref", "postal", "parcel", "intl", "dom"}
_BARE_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT"}


@dataclass(frozen=True)
class _Property:
    name: str  # upper case, group prefix removed
    types: frozenset[str]  # lower case, from TYPE=… and 2.1's bare parameters
    value: str  # decoded from quoted-printable, still vCard-escaped
    preferred: bool


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Splits at separators that are not escaped with a backslash; escapes stay for _unescape."""
    parts: list[str] = []
    current: list[str] = []
    characters = iter(text)
    for character in characters:
        if character == "\\":
            current.append(character)
            current.append(next(characters, ""))
        elif character == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    result: list[str] = []
    characters = iter(text)
    for character in characters:
        if character == "\\":
            following = next(characters, "")
            result.append(_ESCAPES.get(following, following))
        else:
            result.append(character)
    return "".join(result).strip()


def _split_outside_quotes(text: str, separator: str, limit: int = -1) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for character in text:
        if character == '"':
            quoted = not quoted
        if character == separator and not quoted and limit != len(parts):
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    return parts


def _is_quoted_printable(line: str) -> bool:
    head = _split_outside_quotes(line, ":", limit=1)[0]
    return "QUOTED-PRINTABLE" in head.upper()


def content_lines(lines: Iterable[str]) -> Iterator[str]:
    """Logical lines: folded lines (continued by a leading space or tab) joined again, and so
    are 2.1's quoted-printable values continued by a soft line break (a trailing '=')."""
    pending: str | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if pending is not None:
            if pending.endswith("=") and _is_quoted_printable(pending):
                pending = pending[:-1] + line.lstrip(" \t")
                continue
            if line[:1] in (" ", "\t"):
                pending += line[1:]
                continue
            yield pending
        pending = line
    if pending is not None:
        yield pending


def _decode_quoted_printable(value: str, charset: str) -> str:
    raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _parse_property(line: str) -> _Property | None:
    pieces = _split_outside_quotes(line, ":", limit=1)
    if len(pieces) != 2:
        return None
    head, value = pieces
    name, *parameters = _split_outside_quotes(head, ";")
    types: set[str] = set()
    encoding = ""
    charset = "utf-8"
    preferred = False
    for parameter in parameters:
        key, has_value, argument = parameter.partition("=")
        if not has_value:  # 2.1: WORK;VOICE;QUOTED-PRINTABLE instead of TYPE=…;ENCODING=…
            bare = key.strip().upper()
            key, argument = ("ENCODING" if bare in _BARE_ENCODINGS else "TYPE"), bare
        key = key.strip().upper()
        argument = argument.strip().strip('"')
        if key == "TYPE":
            types.update(t.strip().lower() for t in argument.split(",") if t.strip())
        elif key == "ENCODING":
            encoding = argument.upper()
        elif key == "CHARSET":
            charset = argument
        elif key == "PREF":
            preferred = True
    if encoding in ("B", "BASE64"):
        return None  # photos, sounds, keys: nothing a person row holds
    if encoding == "QUOTED-PRINTABLE":
        value = _decode_quoted_printable(value, charset)
    return _Property(
        name=name.rsplit(".", 1)[-1].strip().upper(),
        types=frozenset(types),
        value=value,
        preferred=preferred or "pref" in types,
    )


def _components(value: str, count: int) -> list[str]:
    """A structured value's components; lists within a component are joined by spaces."""
    components = [
        " ".join(p for p in (_unescape(item) for item in _split_unescaped(part, ",")) if p)
        for part in _split_unescaped(value, ";")
    ]
    return [*components, *[""] * (count - len(components))][:count]


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
        address = _without_scheme(_unescape(prop.value), "mailto:")
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
    po_box, extended, street, city, state, postcode, country = _components(candidates[0].value, 7)
    lines = "\n".join(part for part in (street, extended, po_box) if part)
    fields = {
        "address.street": lines,
        "address.addr_city": city,
        "address.addr_state": state,
        "address.addr_postcode": postcode,
        "address.addr_country": country,
    }
    return {path: value for path, value in fields.items() if value}


def card_values(properties: list[_Property]) -> PersonFields:
    values: PersonFields = {}
    full_name = ""
    emails: list[_Property] = []
    addresses: list[_Property] = []
    for prop in properties:
        if prop.name == "N":
            family, given, additional, prefix, suffix = _components(prop.value, 5)
            for path, value in (
                ("pers_lastname", family),
                ("pers_firstname", given),
                ("pers_middlename", additional),
                ("pers_salutation", prefix),
                ("pers_suffix", suffix),
            ):
                _put(values, path, value)
        elif prop.name == "FN":
            full_name = full_name or _unescape(prop.value)
        elif prop.name == "ORG":
            company, department = _components(prop.value, 2)
            _put(values, "company.comp_name", company)
            _put(values, "pers_department", department)
        elif prop.name == "TITLE":
            _put(values, "pers_title", _unescape(prop.value))
        elif prop.name == "URL":
            _put(values, "pers_website", _unescape(prop.value))
        elif prop.name == "EMAIL":
            emails.append(prop)
        elif prop.name == "TEL":
            number = _without_scheme(_unescape(prop.value), "tel:")
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


def read_cards(lines: Iterable[str]) -> Iterator[PersonFields]:
    """The person values of each card, in file order; a card cut off at the end still counts,
    and cards nested inside another (2.1's AGENT) are skipped with it."""
    properties: list[_Property] | None = None
    depth = 0
    for line in content_lines(lines):
        marker = line.strip().upper()
        if marker == "BEGIN:VCARD":
            depth += 1
            if depth == 1:
                properties = []
        elif marker == "END:VCARD" and depth:
            depth -= 1
            if depth == 0 and properties is not None:
                yield card_values(properties)
                properties = None
        elif depth == 1 and properties is not None:
            prop = _parse_property(line)
            if prop is not None:
                properties.append(prop)
    if properties is not None:
        yield card_values(properties)
