"""Request counters and injected faults, steered through the test API."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

FAULT_KINDS = frozenset(
    {"server_busy", "http_503", "irresolvable_conflict", "invalid_sync_state", "slow", "drop"}
)


@dataclass
class Fault:
    kind: str
    operation: str = "*"
    mailbox: str | None = None
    count: int = 1
    back_off_ms: int = 50
    delay_ms: int = 1000

    @classmethod
    def from_json(cls, data: dict[str, object], kinds: frozenset[str] = FAULT_KINDS) -> Fault:
        kind = str(data.get("kind", ""))
        if kind not in kinds:
            raise ValueError(f"kind must be one of {sorted(kinds)}")
        mailbox = data.get("mailbox")
        return cls(
            kind=kind,
            operation=str(data.get("operation") or "*"),
            mailbox=str(mailbox).lower() if mailbox else None,
            count=_non_negative(data, "count", 1),
            back_off_ms=_non_negative(data, "back_off_ms", 50),
            delay_ms=_non_negative(data, "delay_ms", 1000),
        )

    def matches(self, operation: str, mailbox: str | None) -> bool:
        return (self.operation in ("*", operation)) and (
            self.mailbox is None or self.mailbox == mailbox
        )


def _non_negative(data: dict[str, object], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer")
    return value


class Control:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: Counter[str] = Counter()
        self.mailbox_requests: Counter[str] = Counter()
        self.faults: list[Fault] = []

    def count(self, operation: str, mailbox: str | None) -> None:
        with self._lock:
            self.operations[operation] += 1
            if mailbox:
                self.mailbox_requests[mailbox] += 1

    def clear_stats(self) -> None:
        with self._lock:
            self.operations.clear()
            self.mailbox_requests.clear()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def take_fault(self, operation: str, mailbox: str | None) -> Fault | None:
        """Consume one use of the first fault matching this request."""
        with self._lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(operation, mailbox):
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
            return None

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        with self._lock:
            return dict(self.operations), dict(self.mailbox_requests)
