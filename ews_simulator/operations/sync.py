"""SyncFolderItems over each folder's change log.

A sync state is an opaque, checksummed token naming a folder and a position in its change log,
so an incremental sync costs in proportion to the changes since that position.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from ews_simulator.items import Shape
from ews_simulator.operations.base import (
    OperationContext,
    error,
    operation,
    required_m,
    respond,
    single_folder,
    success,
)
from ews_simulator.operations.items import render
from ews_simulator.soap import EwsError
from ews_simulator.store import (
    CHANGE_CREATE,
    CHANGE_DELETE,
    CHANGE_READ_FLAG,
    CHANGE_UPDATE,
    Folder,
)
from ews_simulator.xml import Element, find_m, format_bool, m, t

MAX_CHANGES = 512
# The key only guards against corrupted or hand-made tokens; it is not a secret.
_TOKEN_KEY = b"ews-simulator-sync-state"


def encode_state(scope_id: str, position: int) -> str:
    """A token naming a change log (a folder's, or a hierarchy's under a folder) and a position."""
    payload = base64.urlsafe_b64encode(json.dumps([scope_id, position]).encode()).decode()
    mac = hmac.new(_TOKEN_KEY, payload.encode(), hashlib.sha256).hexdigest()[:16]
    return f"{payload}.{mac}"


def decode_state(scope_id: str, token: str, last: int) -> int:
    invalid = EwsError("ErrorInvalidSyncStateData", "Synchronization state data is corrupt.")
    payload, _, mac = token.strip().partition(".")
    expected = hmac.new(_TOKEN_KEY, payload.encode(), hashlib.sha256).hexdigest()[:16]
    if not hmac.compare_digest(mac, expected):
        raise invalid
    try:
        found_id, position = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError) as e:
        raise invalid from e
    if found_id != scope_id or not isinstance(position, int) or not 0 <= position <= last:
        raise invalid
    return position


def _net_changes(folder: Folder, position: int, limit: int) -> tuple[dict[str, str], int, bool]:
    """Coalesce log entries after `position` into at most `limit` item changes.

    Returns the changes by item id (an empty kind means nothing to report), the log position
    they reach, and whether that position is the end of the log.
    """
    pending: dict[str, str] = {}
    reached = position
    for seq, item_id, kind in folder.changes_since(position):
        if item_id not in pending and len(pending) >= limit:
            return pending, reached, False
        pending[item_id] = _merge(pending.get(item_id), kind)
        reached = seq
    return pending, reached, True


def _merge(previous: str | None, kind: str) -> str:
    if previous is None:
        return kind
    if kind == CHANGE_DELETE:
        # Created and deleted since the client last looked: it never needs to know.
        return "" if previous == CHANGE_CREATE else CHANGE_DELETE
    if previous == CHANGE_CREATE:
        return CHANGE_CREATE
    if previous == CHANGE_READ_FLAG and kind == CHANGE_READ_FLAG:
        return CHANGE_READ_FLAG
    return CHANGE_UPDATE


@operation("SyncFolderItems")
def sync_folder_items(ctx: OperationContext) -> Element:
    op = "SyncFolderItems"
    try:
        if ctx.injected_error:
            raise EwsError(ctx.injected_error, "Injected fault.")
        shape = Shape.parse(required_m(ctx.body, "ItemShape"))
        folder = single_folder(ctx.mailbox, required_m(ctx.body, "SyncFolderId"))
        state = find_m(ctx.body, "SyncState")
        position = (
            decode_state(folder.id, state.text or "", folder.seq)
            if state is not None and state.text
            else 0
        )
        max_el = find_m(ctx.body, "MaxChangesReturned")
        requested = int(max_el.text or MAX_CHANGES) if max_el is not None else MAX_CHANGES
        limit = max(1, min(requested, MAX_CHANGES))
        ignore = find_m(ctx.body, "Ignore")
        ignored = {el.get("Id") for el in ignore} if ignore is not None else set()
    except (EwsError, ValueError) as e:
        err = e if isinstance(e, EwsError) else EwsError("ErrorInvalidRequest", str(e))
        return respond(op, [error(op, err)])
    pending, reached, complete = _net_changes(folder, position, limit)
    changes = m("Changes")
    for item_id, kind in pending.items():
        if not kind or item_id in ignored:
            continue
        changes.append(_change(ctx, folder, item_id, kind, shape))
    body = success(
        op,
        m("SyncState", encode_state(folder.id, reached)),
        m("IncludesLastItemInRange", format_bool(complete)),
        changes,
    )
    return respond(op, [body])


def _change(
    ctx: OperationContext, folder: Folder, item_id: str, kind: str, shape: Shape
) -> Element:
    item = folder.items.get(item_id)
    if kind == CHANGE_DELETE or item is None:
        el = t("Delete")
        el.append(t("ItemId", Id=item_id))
        return el
    if kind == CHANGE_READ_FLAG:
        el = t("ReadFlagChange")
        el.append(t("ItemId", Id=item.id, ChangeKey=item.change_key))
        flag = item.fields.get("IsRead")
        el.append(t("IsRead", flag.text if flag is not None and flag.text else "false"))
        return el
    el = t(kind)
    el.append(render(ctx, item, shape))
    return el
