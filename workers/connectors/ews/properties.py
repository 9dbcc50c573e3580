"""MAPI properties crmsync reads and writes beyond exchangelib's standard fields."""

from __future__ import annotations

from exchangelib import CalendarItem, Contact, Task
from exchangelib.extended_properties import ExtendedProperty

from workers.connectors.tag import CRMSYNC_PROPERTY_SET, TAG_PROPERTY_NAME


class CrmsyncTag(ExtendedProperty):  # type: ignore[misc]
    """crmsync's CRM id: a run killed between creating an item and saving its link finds it."""

    property_set_id = CRMSYNC_PROPERTY_SET
    property_name = TAG_PROPERTY_NAME
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
