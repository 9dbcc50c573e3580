"""EWS requests are metered and held to per-server and per-mailbox caps shared through Redis."""

from __future__ import annotations

import threading
import time

import pytest

from app.config import get_settings
from ews_simulator.testing import SimulatorServer, client_account
from workers.connectors.ews import politeness
from workers.connectors.ews.transport import install, operation_of
from workers.metrics import EWS_REQUESTS


def _peak_concurrency(workers: int, mailbox: str | None) -> int:
    active = 0
    peak = 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal active, peak
        with politeness.ews_slot("mail.example.com", mailbox):
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.1)
            with lock:
                active -= 1

    threads = [threading.Thread(target=request) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak


@pytest.fixture
def caps(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "ews_max_per_server", 3)
    monkeypatch.setattr(settings, "ews_max_per_mailbox", 1)


def test_redis_caps_hold_across_threads(caps: None) -> None:
    politeness._semaphore.cache_clear()
    assert isinstance(politeness._semaphore(), politeness._RedisSemaphore)
    assert _peak_concurrency(8, mailbox=None) == 3
    assert _peak_concurrency(4, mailbox="a@example.com") == 1


def test_local_caps_without_redis(caps: None, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = politeness._LocalSemaphore()
    monkeypatch.setattr(politeness, "_semaphore", lambda: shared)
    assert _peak_concurrency(8, mailbox=None) == 3


def test_a_dead_holder_keeps_its_slot_no_longer_than_the_ews_timeout_and_a_margin(
    caps: None,
) -> None:
    politeness._semaphore.cache_clear()
    semaphore = politeness._semaphore()
    assert isinstance(semaphore, politeness._RedisSemaphore)
    timeout = get_settings().ews_timeout_seconds
    assert politeness.slot_ttl_seconds() == timeout + politeness.SLOT_TTL_MARGIN_SECONDS
    assert politeness.slot_ttl_seconds() <= 120  # at the default EWS timeout, 90 s (was 300 s)
    key = "crmsync:ews:mailbox:dead@example.com"
    semaphore.client.delete(key)
    # A slot as old as the longest request can be is still someone's.
    semaphore.client.zadd(key, {"dead-worker": time.time() - timeout})
    assert not semaphore.try_acquire(key, 1, "newcomer")
    # Past the timeout and the margin, its holder is dead.
    dead_since = time.time() - politeness.slot_ttl_seconds() - 1
    semaphore.client.zadd(key, {"dead-worker": dead_since})
    assert semaphore.try_acquire(key, 1, "newcomer")
    semaphore.client.delete(key)
    with politeness.ews_slot("mail.example.com", "dead@example.com"):
        pass


def test_requests_are_counted_by_operation() -> None:
    install()
    before = EWS_REQUESTS.labels("GetFolder")._value.get()
    with SimulatorServer() as sim:
        account = client_account(sim.ews_url, "metered@example.com", "x")
        account.inbox.refresh()
    assert EWS_REQUESTS.labels("GetFolder")._value.get() > before


def test_operation_is_read_from_the_soap_body() -> None:
    body = b'<s:Envelope><s:Header/><s:Body><m:SyncFolderItems ItemShape="x"/></s:Body>'
    assert operation_of(body) == "SyncFolderItems"
    assert operation_of(None) == "unknown"
