"""EWS operations; importing this package registers every handler in OPERATIONS."""

from ews_simulator.operations import (
    attachments,
    convert_id,
    export,
    find,
    folder_changes,
    folders,
    items,
    junk,
    people,
    sync,
)
from ews_simulator.operations.base import OPERATIONS, OperationContext

__all__ = [
    "OPERATIONS",
    "OperationContext",
    "attachments",
    "convert_id",
    "export",
    "find",
    "folder_changes",
    "folders",
    "items",
    "junk",
    "people",
    "sync",
]
