"""The CRM paths person values are keyed by, and the street's lines. Pure.

Values are keyed by the CRM paths that contact mappings use: `pers_<column>`,
`company.comp_name`, `email.<type>`, `phone.<type>`, `address.street` (address1..4 joined by
new lines) and `address.addr_<column>`.
"""

from __future__ import annotations

from collections.abc import Mapping

PersonValues = dict[str, str | None]

EMAIL_TYPES = ("Business", "Private")
PHONE_TYPES = ("Business", "Home", "Mobile", "Fax")
ADDRESS_COLUMNS = ("addr_city", "addr_state", "addr_postcode", "addr_country")
STREET_LINES = ("addr_address1", "addr_address2", "addr_address3", "addr_address4")
PERSON_COLUMNS = (
    "pers_salutation", "pers_firstname", "pers_middlename", "pers_lastname", "pers_suffix",
    "pers_title", "pers_department", "pers_website", "pers_status",
)  # fmt: skip
COMPANY_COLUMNS = ("comp_name", "comp_website")

# Every path a contact mapping may name on the CRM side.
PERSON_PATHS: tuple[str, ...] = (
    *PERSON_COLUMNS,
    *(f"company.{column}" for column in COMPANY_COLUMNS),
    *(f"email.{kind}" for kind in EMAIL_TYPES),
    *(f"phone.{kind}" for kind in PHONE_TYPES),
    "address.street",
    *(f"address.{column}" for column in ADDRESS_COLUMNS),
)


def check_paths(values: Mapping[str, str | None]) -> None:
    unknown = set(values) - set(PERSON_PATHS)
    if unknown:
        raise ValueError(f"unknown person paths: {sorted(unknown)}")


def blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def split_street(street: str | None) -> list[str | None]:
    """Up to four lines; any beyond the fourth are kept, joined, in the fourth."""
    lines = [line.strip() for line in (street or "").splitlines() if line.strip()]
    if len(lines) > len(STREET_LINES):
        lines = [*lines[:3], ", ".join(lines[3:])]
    return [*lines, *[None] * (len(STREET_LINES) - len(lines))]
