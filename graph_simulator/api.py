"""The Graph side of the simulator: authority, `/v1.0` dispatch with faults, and `$batch`."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ews_simulator import authority as auth
from ews_simulator.control import Control, Fault
from graph_simulator import calendar, contacts, mail, todo
from graph_simulator.delta import Deltas, sync_state_not_found
from graph_simulator.odata import GraphError, Request, Response, bad_request
from graph_simulator.routes import Call, resolve
from graph_simulator.store import Store

FAULT_KINDS = frozenset({"throttle", "http_503", "sync_state_not_found", "slow", "drop"})
MAX_BATCH = 20
# Importing the handler modules registers their routes.
HANDLER_MODULES = (calendar, contacts, mail, todo)


class Dropped(Exception):
    """The connection is to be closed without an answer (the `drop` fault)."""


class GraphApi:
    def __init__(self, store: Store, clients: auth.Clients, graph_audience: str) -> None:
        self.store = store
        self.authority = auth.Authority(clients, graph_audience)
        self.deltas = Deltas()
        self.control = Control()
        self.batched: Counter[str] = Counter()
        self._batched_lock = threading.Lock()
        self.uploads: dict[str, Any] = {}
        self.base_url = ""

    # --- the authority -----------------------------------------------------------------
    def openid(self, tenant: str) -> Response:
        self.control.count("openid-configuration", None)
        return Response(200, auth.openid_configuration(self.base_url, tenant))

    def token(self, tenant: str, body: bytes) -> Response:
        self.control.count("token", None)
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        endpoint = f"{self.base_url}/{tenant}/oauth2/v2.0/token"
        try:
            return Response(200, self.authority.issue(form, endpoint, self.base_url))
        except auth.TokenError as e:
            return Response(e.status, e.body())

    # --- /v1.0 ---------------------------------------------------------------------------
    def serve(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """One HTTP request below /v1.0 (`target` is the rest of the path and the query)."""
        if self.authority.client_of(headers.get("authorization")) is None:
            return GraphError(
                401, "InvalidAuthenticationToken", "Access token is empty or expired."
            ).response()
        if urlsplit(target).path.rstrip("/") == "/$batch" and method == "POST":
            self.control.count("batch", None)
            return self._with_faults("batch", None, lambda: self._batch(headers, body))
        return self.call(method, target, headers, body, batched=False)

    def call(
        self, method: str, target: str, headers: dict[str, str], body: bytes, *, batched: bool
    ) -> Response:
        parts = urlsplit(target)
        path = unquote(parts.path)
        segments = path.split("/")
        if len(segments) < 3 or segments[1].lower() != "users":
            return bad_request(f"Resource not found for the segment '{segments[1:2]}'.").response()
        mailbox = self.store.mailbox(segments[2])
        if mailbox is None:
            return GraphError(
                404, "ErrorInvalidUser", f"The requested user '{segments[2]}' is invalid."
            ).response()
        relative = "/" + "/".join(segments[3:])
        found = resolve(method, relative.rstrip("/") or "/")
        if found is None:
            return bad_request(f"No {method} route for '{relative}'.").response()
        route, params = found
        if batched:
            with self._batched_lock:
                self.batched[route.operation] += 1
        else:
            self.control.count(route.operation, mailbox.smtp)
        request = Request(method, path, dict(parse_qsl(parts.query)), headers, body, self.base_url)
        call = Call(request, mailbox, params, self.store, self.deltas, self.uploads)

        def run() -> Response:
            with mailbox.lock:
                return route.handler(call)

        return self._with_faults(route.operation, mailbox.smtp, run)

    def _with_faults(self, operation: str, mailbox: str | None, run: Any) -> Response:
        fault = self.control.take_fault(operation, mailbox)
        try:
            if fault is not None:
                injected = self._inject(fault)
                if injected is not None:
                    return injected
            result: Response = run()
            return result
        except GraphError as e:
            return e.response()

    @staticmethod
    def _inject(fault: Fault) -> Response | None:
        if fault.kind == "slow":
            time.sleep(fault.delay_ms / 1000)
            return None
        if fault.kind == "drop":
            raise Dropped
        if fault.kind == "sync_state_not_found":
            return sync_state_not_found().response()
        retry_after = {"Retry-After": str(math.ceil(fault.back_off_ms / 1000))}
        if fault.kind == "throttle":
            return GraphError(
                429,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
                retry_after,
            ).response()
        return GraphError(
            503, "ServiceUnavailable", "The service is temporarily unavailable.", retry_after
        ).response()

    def _batch(self, headers: dict[str, str], body: bytes) -> Response:
        request = Request("POST", "/$batch", {}, headers, body, self.base_url)
        requests = request.json().get("requests")
        if not isinstance(requests, list) or not requests:
            raise bad_request("A $batch body needs a non-empty 'requests' array.")
        if len(requests) > MAX_BATCH:
            raise bad_request(f"Number of batch requests exceeds the limit of {MAX_BATCH}.")
        ids = [str(r.get("id")) for r in requests if isinstance(r, dict)]
        if len(ids) != len(requests) or len(set(ids)) != len(ids):
            raise bad_request("Every batch request needs an object with a unique id.")
        responses = [self._batch_item(r, headers) for r in requests]
        return Response(200, {"responses": responses})

    def _batch_item(self, item: dict[str, Any], outer: dict[str, str]) -> dict[str, Any]:
        method = str(item.get("method", "")).upper()
        url = str(item.get("url", ""))
        if not method or not url:
            result = bad_request("A batch request needs a method and a url.").response()
        else:
            headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
            headers.setdefault("prefer", outer.get("prefer", ""))
            payload = item.get("body")
            raw = b"" if payload is None else _json_bytes(payload)
            target = url if url.startswith("/") else f"/{url}"
            result = self.call(method, target, headers, raw, batched=True)
        answer: dict[str, Any] = {"id": str(item["id"]), "status": result.status}
        headers = dict(result.headers)
        if isinstance(result.body, bytes):
            # Graph returns a member's non-JSON body (a MIME message) base64-encoded.
            answer["body"] = base64.b64encode(result.body).decode()
            headers["Content-Type"] = result.content_type
        elif result.body is not None:
            answer["body"] = result.body
        if headers:
            answer["headers"] = headers
        return answer

    # --- the test API's view ---------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        operations, per_mailbox = self.control.snapshot()
        with self._batched_lock:
            batched = dict(self.batched)
        mailboxes = {
            smtp: {"requests": per_mailbox.get(smtp, 0), "items": box.item_count()}
            for smtp, box in self.store.mailboxes.items()
        }
        return {
            "requests": operations,
            "batched": batched,
            "total_requests": sum(operations.values()),
            "tokens_issued": self.authority.issued,
            "mailboxes": mailboxes,
        }

    def clear_stats(self) -> None:
        self.control.clear_stats()
        with self._batched_lock:
            self.batched.clear()

    def reset(self) -> None:
        self.store.reset()
        self.deltas.clear()
        self.uploads.clear()
        self.clear_stats()
        self.control.clear_faults()


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def parse_fault(data: dict[str, object]) -> Fault:
    return Fault.from_json(data, FAULT_KINDS)
