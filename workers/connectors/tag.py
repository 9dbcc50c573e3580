"""The MAPI property carrying crmsync's CRM id on the items it creates, for every connector.

EWS and Graph name the same named property (property set, name, string type), so a mailbox
switched from one connector to the other still finds the items crmsync made.
"""

from __future__ import annotations

CRMSYNC_PROPERTY_SET = "6f0e1c5a-4b0a-4f43-9d1d-3c2b7a9e5c11"
TAG_PROPERTY_NAME = "crmsync-crm-id"
# Graph's id of a single-value extended property: type, {property set}, Name, name.
GRAPH_TAG_PROPERTY_ID = f"String {{{CRMSYNC_PROPERTY_SET}}} Name {TAG_PROPERTY_NAME}"
