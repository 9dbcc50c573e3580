"""MAPI properties crmsync reads and writes beyond exchangelib's standard fields."""

from __future__ import annotations

from exchangelib import CalendarItem, Contact, Task
from exchangelib.extended_properties import ExtendedProperty

# crmsync's own property set: every item crmsync creates carries the CRM id it was made from,
# so that a run killed between creating an item and saving its link finds it again.
CRMSYNC_PROPERTY_SET = "6f0e1c5a-4b0a-4f43-9d1d-3c2b7a9e5c11"


class CrmsyncTag(ExtendedProperty):  # type: ignore[misc]
    property_set_id = CRMSYNC_PROPERTY_SET
    property_name = "crmsync-crm-id"
    property_type = "String"


class DisplayNamePrefix(ExtendedProperty):  # type: ignore[misc]
    """PidTagDisplayNamePrefix: the contact's title (Mr, Dr …), which EWS has no field for."""

    property_tag = 0x3A45
    property_type = "String"


TAG_FIELD = "crmsync_tag"
TITLE_FIELD = "display_name_prefix"


def register() -> None:
    """Registers the properties on exchangelib's item classes (once per process)."""
    for item_class in (Contact, CalendarItem, Task):
        if TAG_FIELD not in {f.name for f in item_class.FIELDS}:
            item_class.register(TAG_FIELD, CrmsyncTag)
    if TITLE_FIELD not in {f.name for f in Contact.FIELDS}:
        Contact.register(TITLE_FIELD, DisplayNamePrefix)


register()
