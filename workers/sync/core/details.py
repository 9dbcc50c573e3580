"""The CRM details block crmsync appends to bodies it sends to Outlook. Pure.

Records carry the note ("body") and the rendered details ("details") as separate fields: only
the Exchange body holds both, joined here and split again when it is read, so the block never
reaches `comm_note` and never counts as a change of the note, however many round trips.
"""

from __future__ import annotations

OPENING = "-- CRM details (crmsync) --"
CLOSING = "-- end of CRM details --"


def normalize_text(value: str | None) -> str | None:
    """One spelling of a plain-text body: Unix line ends, no trailing blanks; empty is None."""
    if value is None:
        return None
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return text if text.strip() else None


def join_body(note: str | None, details: str | None) -> str:
    """The Exchange body: the note, then the delimited details block when there are details."""
    if not details:
        return note or ""
    block = f"{OPENING}\n{details}\n{CLOSING}"
    return f"{note}\n\n{block}" if note else block


def split_body(body: str | None) -> tuple[str | None, str | None]:
    """The note and the details of an Exchange body.

    Robust to what users do in Outlook: text after the block belongs to the note; a block
    whose closing line was deleted runs to the end; several blocks (pasted twice) all go.
    """
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    details: list[str] = []
    inside = False
    for line in text.split("\n"):
        marker = line.strip()
        if not inside and marker == OPENING:
            inside = True
        elif inside and marker == CLOSING:
            inside = False
        elif inside:
            details.append(line)
        elif marker != CLOSING:
            kept.append(line)
    return normalize_text("\n".join(kept)), normalize_text("\n".join(details))
