"""SOAP envelope handling: request headers, response envelopes and SOAP faults."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ews_simulator.xml import E_NS, M_NS, SOAP_NS, T_NS, Element, qn, t

# Exchange Server 2016 CU (15.1). Version is what 2016 reports; exchangelib maps it back to
# the "Exchange2016" API version it requested.
SERVER_VERSION = {
    "MajorVersion": "15",
    "MinorVersion": "1",
    "MajorBuildNumber": "2507",
    "MinorBuildNumber": "6",
    "Version": "V2017_07_11",
}


class EwsError(Exception):
    """An error reported in a response message (ResponseClass="Error")."""

    def __init__(self, code: str, text: str = "", back_off_ms: int | None = None) -> None:
        super().__init__(text or code)
        self.code = code
        self.text = text or code
        self.back_off_ms = back_off_ms


class SoapFaultError(Exception):
    """An error that aborts the whole request as a soap:Fault (HTTP 500)."""

    def __init__(
        self, code: str, text: str, *, client: bool = True, back_off_ms: int | None = None
    ) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.client = client
        self.back_off_ms = back_off_ms


@dataclass(frozen=True)
class RequestContext:
    operation: str
    body: Element
    impersonated_smtp: str | None
    time_zone_id: str | None


def parse_envelope(root: Element) -> RequestContext:
    if root.tag != qn(SOAP_NS, "Envelope"):
        raise SoapFaultError("ErrorInvalidRequest", "The request is not a SOAP 1.1 envelope.")
    body = root.find(qn(SOAP_NS, "Body"))
    if body is None or len(body) == 0:
        raise SoapFaultError("ErrorInvalidRequest", "The SOAP body is empty.")
    operation_el = body[0]
    if etree.QName(operation_el).namespace != M_NS:
        raise SoapFaultError("ErrorInvalidRequest", "The request is not an EWS operation.")
    header = root.find(qn(SOAP_NS, "Header"))
    impersonated: str | None = None
    tz_id: str | None = None
    if header is not None:
        imp = header.find(f"{{{T_NS}}}ExchangeImpersonation/{{{T_NS}}}ConnectingSID")
        if imp is not None:
            for name in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName"):
                found = imp.find(qn(T_NS, name))
                if found is not None and found.text:
                    impersonated = found.text.strip().lower()
                    break
        tz = header.find(f"{{{T_NS}}}TimeZoneContext/{{{T_NS}}}TimeZoneDefinition")
        if tz is not None:
            tz_id = tz.get("Id")
    return RequestContext(
        operation=etree.QName(operation_el).localname,
        body=operation_el,
        impersonated_smtp=impersonated,
        time_zone_id=tz_id,
    )


def _envelope() -> tuple[Element, Element]:
    env = etree.Element(qn(SOAP_NS, "Envelope"), nsmap={"s": SOAP_NS})
    header = etree.SubElement(env, qn(SOAP_NS, "Header"))
    info = etree.SubElement(header, qn(T_NS, "ServerVersionInfo"), nsmap={"h": T_NS})
    for k, v in SERVER_VERSION.items():
        info.set(k, v)
    body = etree.SubElement(env, qn(SOAP_NS, "Body"))
    return env, body


def response_envelope(payload: Element) -> bytes:
    env, body = _envelope()
    body.append(payload)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def fault_envelope(fault: SoapFaultError) -> bytes:
    env, body = _envelope()
    el = etree.SubElement(body, qn(SOAP_NS, "Fault"))
    code = etree.SubElement(el, "faultcode")
    code.text = "s:Client" if fault.client else "s:Server"
    etree.SubElement(el, "faultstring").text = fault.text
    detail = etree.SubElement(el, "detail")
    etree.SubElement(detail, qn(E_NS, "ResponseCode"), nsmap={"e": E_NS}).text = fault.code
    etree.SubElement(detail, qn(E_NS, "Message"), nsmap={"e": E_NS}).text = fault.text
    if fault.back_off_ms is not None:
        # Exchange puts the back-off hint in a types-namespace MessageXml inside the fault detail.
        msg_xml = t("MessageXml")
        msg_xml.append(t("Value", str(fault.back_off_ms), Name="BackOffMilliseconds"))
        detail.append(msg_xml)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))
