"""The words of synchronization shared by the models, the API and the sync core.

Pure enums, so the sync core (workers/sync/core) can speak them without importing the ORM;
the API accepts their values in any letter case (app.kit.enums).
"""

from __future__ import annotations

from app.kit.enums import CaseInsensitiveEnum


class SyncEntity(CaseInsensitiveEnum):
    """The kinds of items synchronized; also the `{entity}` path parameter of the config API."""

    CONTACTS = "contacts"
    APPOINTMENTS = "appointments"
    TASKS = "tasks"


class RunStatus(CaseInsensitiveEnum):
    """A recorded run's status; a sync pass or an entity ends in one of the last four."""

    QUEUED = "Queued"
    RUNNING = "Running"
    SUCCESS = "Success"
    SUCCESS_WITH_ERRORS = "Success with errors"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"


class EntryLevel(CaseInsensitiveEnum):
    """The level of a run's log entry, and the threshold a user's log level setting sets."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ErrorClass(CaseInsensitiveEnum):
    """Why a run failed as a whole: whether retrying later can help (stored as failure_kind)."""

    TRANSIENT = "transient"  # throttling, an unreachable server: retried with back-off
    PERMANENT = "permanent"  # refused credentials, no such mailbox: needs an administrator
