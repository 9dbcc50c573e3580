"""A transiently failed run is retried with growing back-off; a permanent one is not."""

from __future__ import annotations

from typing import Any

import pytest
from celery.exceptions import Retry

from app.kit.sync_terms import ErrorClass, RunStatus
from workers.jobs import sync as tasks
from workers.sync.runner import RunOutcome


def _run(status: RunStatus, failure_kind: ErrorClass | None) -> RunOutcome:
    return RunOutcome(
        run_id=1, user_id=7, status=status, failure_kind=failure_kind, message="x", counts={},
        deletions_held=False,
    )  # fmt: skip


@pytest.fixture
def outcome(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    state: dict[str, Any] = {"run": None, "retry_runs": []}
    monkeypatch.setattr(tasks, "run_user_sync", lambda _request: state["run"])

    def queue_retry(user_id: int) -> int:
        state["retry_runs"].append(user_id)
        return 99

    monkeypatch.setattr(tasks, "queue_retry_run", queue_retry)
    return state


def test_transient_failure_is_retried_with_a_new_queued_run(outcome: dict[str, Any]) -> None:
    outcome["run"] = _run(RunStatus.FAILED, ErrorClass.TRANSIENT)
    with pytest.raises(Retry):
        tasks.sync_user.apply(args=[7, 1], throw=True)
    assert outcome["retry_runs"] == [7]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (RunStatus.FAILED, ErrorClass.PERMANENT),
        (RunStatus.SUCCESS, None),
        (RunStatus.SUCCESS_WITH_ERRORS, None),
    ],
)
def test_no_retry_otherwise(
    outcome: dict[str, Any], status: RunStatus, kind: ErrorClass | None
) -> None:
    outcome["run"] = _run(status, kind)
    tasks.sync_user.apply(args=[7, 1], throw=True)
    assert outcome["retry_runs"] == []


def test_back_off_doubles_up_to_a_ceiling() -> None:
    delays = [tasks.retry_delay_seconds(n) for n in range(8)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays[-1] == 900
