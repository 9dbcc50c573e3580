"""What well-formed ids and change keys look like, so malformed ones fail as in Exchange.

Exchange's ids are base64 blobs it can decode without a store lookup, so a garbled id fails
with ErrorInvalidIdMalformed and a garbled change key with ErrorInvalidChangeKey, before any
"not found". The simulator's ids are readable prefixes plus hex (see store.new_id); occurrence
and attachment ids embed the id of their owning item.
"""

from __future__ import annotations

import re

from ews_simulator.soap import EwsError

_BASE = r"AAMk[IFA][0-9a-f]{32}"
ITEM_ID = re.compile(rf"(OCC\d+_)?{_BASE}")
FOLDER_ID = re.compile(_BASE)
ATTACHMENT_ID = re.compile(rf"{_BASE}_(OCC\d+_)?{_BASE}")
CHANGE_KEY = re.compile(r"CQAAAB[0-9a-f]{20}")


def check_id(value: str, pattern: re.Pattern[str] = ITEM_ID) -> str:
    if not pattern.fullmatch(value):
        raise EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
    return value


def check_change_key(value: str | None) -> None:
    if value and not CHANGE_KEY.fullmatch(value):
        raise EwsError("ErrorInvalidChangeKey", "ChangeKey is invalid.")
