"""The worker and scheduler that `crmsync serve` runs beside the API in the embedded default.

They start and stop with serve: a signal to serve stops them and waits for them, and one that
dies takes serve down with a message naming it, so the service never runs half of itself. They
run in a session of their own so that a Ctrl-C in a terminal reaches serve alone, which then
stops them in order; on Linux they also get SIGTERM should serve itself be killed outright.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

# A warm Celery shutdown finishes the sync jobs in progress; past this, the child is killed
# (its unacknowledged jobs are delivered again to the next worker).
STOP_TIMEOUT_SECONDS = 30.0
_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def _terminate_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]


class Supervisor:
    """Starts named commands as child processes, watches them, and stops them all."""

    def __init__(self, commands: dict[str, list[str]]) -> None:
        self._commands = commands
        self._children: list[_Child] = []
        self._stopping = threading.Event()

    def start(self, on_death: Callable[[str], None]) -> None:
        """Starts every child; `on_death` gets a message when one ends while not being stopped."""
        for name, argv in self._commands.items():
            process = subprocess.Popen(
                argv, start_new_session=True, preexec_fn=_terminate_with_parent
            )
            self._children.append(_Child(name, process))
        threading.Thread(
            target=self._watch, args=(on_death,), name="crmsync-supervisor", daemon=True
        ).start()

    def _watch(self, on_death: Callable[[str], None]) -> None:
        while not self._stopping.wait(_POLL_SECONDS):
            for child in self._children:
                status = child.process.poll()
                if status is not None and not self._stopping.is_set():
                    on_death(f"the {child.name} (pid {child.process.pid}) {_ended(status)}")
                    return

    def stop(self) -> list[str]:
        """Stops every child and waits for it; returns a note for each that had to be killed."""
        self._stopping.set()
        for child in self._children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        notes = []
        for child in self._children:
            try:
                child.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
                notes.append(
                    f"the {child.name} did not stop within {STOP_TIMEOUT_SECONDS:.0f} s: killed"
                )
        return notes


def _ended(status: int) -> str:
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"
