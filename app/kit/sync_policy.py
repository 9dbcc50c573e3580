"""The words of synchronization policy, shared by the settings API and the sync planner."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    CRM_TO_OUTLOOK = "crm_to_outlook"
    OUTLOOK_TO_CRM = "outlook_to_crm"
    BOTH = "both"


class ConflictPolicy(StrEnum):
    CRM_WINS = "crm_wins"
    OUTLOOK_WINS = "outlook_wins"
    MOST_RECENT = "most_recent"
    REVIEW = "review"


class OutlookDeleteMode(StrEnum):
    """What the CRM does when the item is deleted in Outlook."""

    DELETE = "delete"  # soft-delete the CRM record
    UNLINK = "unlink"  # keep the record, forget the link
    UNFLAG = "unflag"  # contacts only: remove the person from the user's flagged contacts
