"""The one line a worker logs per run, for operators reading logs rather than the API.

    run 12 of user 5 (jane): Success in 3.4 s, 14 EWS requests; contacts 3 created, 1 updated,
    0 deleted; tasks no changes

With CRMSYNC_LOG_FORMAT=json the same facts are fields of the record (`event: "sync_run"`).
A failure the environment explains (credentials, reachability, throttling, a stopped user) is
that one line with its reason; a traceback comes along only for unexpected errors, or at DEBUG.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.kit.sync_terms import RunStatus

if TYPE_CHECKING:
    from workers.sync.runner import RunOutcome

logger = logging.getLogger("crmsync.sync")

_REPORTED = ("created", "updated", "deleted")


def entity_figures(counts: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per entity: created, updated and deleted items, both directions together."""
    figures: dict[str, dict[str, int]] = {}
    for entity, directions in sorted(counts.items()):
        totals = dict.fromkeys(_REPORTED, 0)
        for per_outcome in directions.values():
            for outcome in _REPORTED:
                totals[outcome] += int(per_outcome.get(outcome, 0))
        figures[entity] = totals
    return figures


def _describe(figures: dict[str, dict[str, int]]) -> str:
    parts = []
    for entity, totals in figures.items():
        if any(totals.values()):
            parts.append(f"{entity} " + ", ".join(f"{totals[o]} {o}" for o in _REPORTED))
        else:
            parts.append(f"{entity} no changes")
    return "; ".join(parts)


def log_run(
    run: RunOutcome,
    *,
    logon: str | None,
    duration_seconds: float,
    error: BaseException | None,
    expected: bool,
) -> None:
    figures = entity_figures(run.counts)
    ews_requests = run.ews_requests
    who = f"user {run.user_id}" + (f" ({logon})" if logon else "")
    requests = f"{ews_requests} EWS request" + ("" if ews_requests == 1 else "s")
    line = f"run {run.run_id} of {who}: {run.status} in {duration_seconds:.1f} s, {requests}"
    if figures:
        line += f"; {_describe(figures)}"
    if run.message and run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
        line += f": {run.message}"
        if run.failure_kind:
            line += f" ({run.failure_kind})"
    fields = {
        "event": "sync_run",
        "run_id": run.run_id,
        "user_id": run.user_id,
        "logon": logon,
        "trigger": run.trigger,
        "outcome": str(run.status),
        "duration_seconds": round(duration_seconds, 3),
        "ews_requests": ews_requests,
        "entities": figures,
        "reason": run.message if run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED) else None,
        "failure_kind": run.failure_kind,
    }
    succeeded = run.status in (RunStatus.SUCCESS, RunStatus.SUCCESS_WITH_ERRORS)
    level = logging.INFO if succeeded or (error is None and expected) else logging.WARNING
    if error is not None and not expected:
        logger.error(line, extra=fields, exc_info=error)
        return
    logger.log(level, line, extra=fields)
    if error is not None:
        logger.debug("run %s: %s", run.run_id, type(error).__name__, exc_info=error)
