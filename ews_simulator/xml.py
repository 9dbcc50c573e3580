"""Namespaces, a hardened XML parser and small element builders shared by every module."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
M_NS = "http://schemas.microsoft.com/exchange/services/2006/messages"
T_NS = "http://schemas.microsoft.com/exchange/services/2006/types"
E_NS = "http://schemas.microsoft.com/exchange/services/2006/errors"
NSMAP = {"s": SOAP_NS, "m": M_NS, "t": T_NS}

Element = etree._Element


class XmlRejectedError(ValueError):
    """The request body is not acceptable XML (malformed, or carries a DTD)."""


def _make_parser() -> etree.XMLParser:
    # Entities are never expanded and nothing is fetched, so billion-laughs and XXE payloads stay
    # inert; DTDs are refused outright in parse_request() because Exchange refuses them too.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=True,
    )


def parse_request(body: bytes) -> Element:
    # Exchange refuses document type declarations outright; so do we, before lxml sees them.
    if b"<!doctype" in body[:4096].lower() or b"<!entity" in body.lower():
        raise XmlRejectedError("DTDs and entity declarations are not allowed")
    try:
        tree = etree.fromstring(body, parser=_make_parser()).getroottree()
    except etree.XMLSyntaxError as e:
        raise XmlRejectedError(f"Malformed XML: {e}") from e
    if tree.docinfo.internalDTD is not None:
        raise XmlRejectedError("DTDs are not allowed")
    return tree.getroot()


def parse_fragment(text: str) -> Element:
    """Parse XML that the simulator produced itself (persisted state)."""
    return etree.fromstring(text.encode(), parser=_make_parser())


def qn(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def t(name: str, text: str | None = None, **attrs: str) -> Element:
    el = etree.Element(qn(T_NS, name), nsmap={"t": T_NS})
    if text is not None:
        el.text = text
    for k, v in attrs.items():
        el.set(k, v)
    return el


def m(name: str, text: str | None = None, **attrs: str) -> Element:
    el = etree.Element(qn(M_NS, name), nsmap={"m": M_NS, "t": T_NS})
    if text is not None:
        el.text = text
    for k, v in attrs.items():
        el.set(k, v)
    return el


def sub(parent: Element, child: Element) -> Element:
    parent.append(child)
    return child


def local(el: Element) -> str:
    return etree.QName(el).localname


def find_t(el: Element, name: str) -> Element | None:
    return el.find(qn(T_NS, name))


def find_m(el: Element, name: str) -> Element | None:
    return el.find(qn(M_NS, name))


def text_t(el: Element, name: str) -> str | None:
    child = el.find(qn(T_NS, name))
    return None if child is None else (child.text or "")


def to_string(el: Element) -> str:
    return etree.tostring(el, encoding="unicode")


def parse_datetime(value: str) -> datetime:
    """Parse an xs:dateTime; values without an offset are taken as UTC, as Exchange does."""
    value = value.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    # exchangelib expects UTC with a Z suffix and whole seconds, as Exchange 2016 sends them.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: str) -> date:
    # xs:date may carry an offset ("2024-03-01+01:00" or "...Z"); only the calendar date matters.
    return date.fromisoformat(value.strip()[:10])


def parse_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


def format_bool(value: bool) -> str:
    return "true" if value else "false"
