"""The HTTP server: EWS over SOAP at /EWS/Exchange.asmx and the JSON test API under /_sim/.

The server's limits (socket timeouts, request sizes) and TLS are ews_simulator.http's.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ews_simulator.authority import TOKEN_LIFETIME_SECONDS, Clients
from ews_simulator.control import Control, Fault
from ews_simulator.http import BoundedHandler, Reply, SimulatorServerBase
from ews_simulator.oauth import APP_PREFIX, OAuthEndpoints
from ews_simulator.operations import OPERATIONS, OperationContext
from ews_simulator.operations.base import error, respond
from ews_simulator.seed import seed_mailbox
from ews_simulator.soap import (
    EwsError,
    SoapFaultError,
    fault_envelope,
    parse_envelope,
    response_envelope,
)
from ews_simulator.store import Store
from ews_simulator.tls import ServerIdentity
from ews_simulator.xml import Element, XmlRejectedError, parse_request

EWS_PATH = "/ews/exchange.asmx"
MAX_REQUEST_BYTES = 20 * 1024 * 1024
INJECTED_CODES = {
    "irresolvable_conflict": "ErrorIrresolvableConflict",
    "invalid_sync_state": "ErrorInvalidSyncStateData",
}

# Observers see each EWS exchange: (operation, request body element, response payload element).
Observer = Callable[[str, Element, Element], None]


@dataclass
class AuthConfig:
    users: dict[str, str] = field(default_factory=dict)
    impersonators: set[str] = field(default_factory=set)
    no_auth: bool = False
    # App registrations that get OAuth2 tokens (served with TLS only), and their lifetime.
    clients: Clients = field(default_factory=Clients)
    token_lifetime_seconds: int = TOKEN_LIFETIME_SECONDS


class UnauthorizedError(Exception):
    def __init__(self, challenge: str = 'Basic realm="ews-simulator"') -> None:
        super().__init__(challenge)
        self.challenge = challenge


class Simulator:
    """Everything behind the socket: store, counters, faults and request handling."""

    def __init__(self, auth: AuthConfig | None = None, store: Store | None = None) -> None:
        self.auth = auth or AuthConfig()
        self.store = store or Store()
        self.control = Control()
        self.observers: list[Observer] = []
        # Set by the HTTPS server, which knows the audience (its own URL).
        self.oauth: OAuthEndpoints | None = None

    # --- EWS -----------------------------------------------------------------------------
    def handle_ews(self, headers: dict[str, str], body: bytes) -> Reply:
        try:
            user = self._authenticate(headers.get("authorization"))
        except UnauthorizedError as e:
            return Reply(401, b"UnauthorizedError", "text/plain", {"WWW-Authenticate": e.challenge})
        try:
            root = parse_request(body)
            request = parse_envelope(root)
        except XmlRejectedError as e:
            return self._fault(SoapFaultError("ErrorSchemaValidation", str(e)))
        except SoapFaultError as e:
            return self._fault(e)
        try:
            smtp = self._target_mailbox(user, request.impersonated_smtp, headers)
        except SoapFaultError as e:
            self.control.count(request.operation, None)
            return self._fault(e)
        self.control.count(request.operation, smtp)
        fault = self.control.take_fault(request.operation, smtp)
        if fault is not None:
            injected = self._inject(fault, request.operation)
            if injected is not None:
                return injected
        handler = OPERATIONS.get(request.operation)
        if handler is None:
            return self._fault(
                SoapFaultError(
                    "ErrorInvalidRequest", f"The operation {request.operation} is not supported."
                )
            )
        mailbox = self.store.mailbox(smtp)
        try:
            with mailbox.lock:
                payload = handler(OperationContext(self.store, mailbox, request.body))
        except EwsError as e:
            payload = respond(request.operation, [error(request.operation, e)])
        except SoapFaultError as e:
            return self._fault(e)
        except Exception:  # noqa: BLE001 - any bug must still answer
            # A bug in a handler: Exchange answers such failures with a server fault, and a
            # client that gets one stops instead of retrying a dropped connection until timeout.
            traceback.print_exc(file=sys.stderr)
            return self._fault(
                SoapFaultError(
                    "ErrorInternalServerError",
                    f"An internal server error occurred handling {request.operation}.",
                    client=False,
                )
            )
        for observer in self.observers:
            observer(request.operation, request.body, payload)
        return Reply(200, response_envelope(payload))

    def _inject(self, fault: Fault, operation: str) -> Reply | None:
        if fault.kind == "slow":
            time.sleep(fault.delay_ms / 1000)
            return None
        if fault.kind == "drop":
            return Reply(0, b"", drop=True)
        if fault.kind == "http_503":
            retry_after = str(max(1, math.ceil(fault.back_off_ms / 1000)))
            return Reply(503, b"Service Unavailable", "text/plain", {"Retry-After": retry_after})
        if fault.kind == "server_busy":
            return self._fault(
                SoapFaultError(
                    "ErrorServerBusy",
                    "The server cannot service this request right now. Try again later.",
                    client=False,
                    back_off_ms=fault.back_off_ms,
                )
            )
        code = INJECTED_CODES[fault.kind]
        return Reply(200, response_envelope(respond(operation, [error(operation, EwsError(code))])))

    @staticmethod
    def _fault(fault: SoapFaultError) -> Reply:
        return Reply(500, fault_envelope(fault))

    def _authenticate(self, header: str | None) -> str | None:
        if self.auth.no_auth:
            return None
        if header and header.lower().startswith("bearer "):
            principal = self.oauth.principal(header) if self.oauth else None
            if principal is None:
                raise UnauthorizedError('Bearer error="invalid_token"')
            return principal
        if not header or not header.lower().startswith("basic "):
            raise UnauthorizedError
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise UnauthorizedError from e
        name, sep, password = decoded.partition(":")
        if not sep:
            raise UnauthorizedError
        if self.auth.users:
            if self.auth.users.get(name) != password:
                raise UnauthorizedError
        elif "@" not in name:
            raise UnauthorizedError
        return name

    def _target_mailbox(
        self, user: str | None, impersonated: str | None, headers: dict[str, str]
    ) -> str:
        if user is None:  # no-auth mode
            target = impersonated or (headers.get("x-anchormailbox") or "").strip().lower()
            if not target:
                raise SoapFaultError(
                    "ErrorMissingEmailAddress",
                    "No mailbox: send ExchangeImpersonation or X-AnchorMailbox.",
                )
            return target
        if user.startswith(APP_PREFIX) and not impersonated:
            raise SoapFaultError(
                "ErrorMissingEmailAddress",
                "ExchangeImpersonation SOAP header must be present for this type of OAuth token.",
            )
        own = user.lower() if "@" in user else None
        if impersonated and impersonated != own:
            if user not in self.auth.impersonators and not user.startswith(APP_PREFIX):
                raise SoapFaultError(
                    "ErrorImpersonateUserDenied",
                    "The account does not have permission to impersonate the requested user.",
                )
            return impersonated
        if own is None:
            raise SoapFaultError(
                "ErrorMissingEmailAddress", "The account has no mailbox of its own."
            )
        return own

    # --- test API ------------------------------------------------------------------------
    def handle_admin(self, method: str, path: str, body: bytes) -> Reply:
        try:
            data = json.loads(body) if body.strip() else {}
            if not isinstance(data, dict):
                raise ValueError("The body must be a JSON object.")
            status, result = self._admin(method, path.rstrip("/"), data)
        except (ValueError, KeyError, TypeError) as e:
            status, result = 400, {"error": str(e)}
        return Reply(status, json.dumps(result).encode(), "application/json")

    def _admin(self, method: str, path: str, data: dict[str, Any]) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.split("/")[2:]]
        if method == "POST" and parts == ["reset"]:
            self.store.reset()
            self.control.clear_stats()
            self.control.clear_faults()
            return 200, {"reset": True}
        if method == "POST" and parts == ["mailboxes"]:
            smtp = str(data["smtp"]).strip().lower()
            if "@" not in smtp:
                raise ValueError("smtp must be an email address")
            self.store.mailbox(smtp)
            return 200, {"smtp": smtp}
        if method == "POST" and len(parts) == 3 and parts[0] == "mailboxes" and parts[2] == "seed":
            counts = {k: int(v) for k, v in data.items()}
            if any(v < 0 for v in counts.values()):
                raise ValueError("counts must not be negative")
            box = self.store.mailbox(parts[1])
            with box.lock:
                created = seed_mailbox(box, counts)
            return 200, {"smtp": box.smtp, "created": created, "items": box.item_count()}
        if parts == ["stats"] and method == "GET":
            return 200, self.stats()
        if parts == ["stats"] and method == "DELETE":
            self.control.clear_stats()
            return 200, {"cleared": True}
        if parts == ["faults"] and method == "POST":
            self.control.add_fault(Fault.from_json(data))
            return 200, {"added": True}
        if parts == ["faults"] and method == "DELETE":
            self.control.clear_faults()
            return 200, {"cleared": True}
        return 404, {"error": f"No such test API endpoint: {method} {path}"}

    def stats(self) -> dict[str, Any]:
        operations, per_mailbox = self.control.snapshot()
        mailboxes: dict[str, dict[str, int]] = {}
        for smtp in set(per_mailbox) | set(self.store.mailboxes):
            box = self.store.mailboxes.get(smtp)
            mailboxes[smtp] = {
                "requests": per_mailbox.get(smtp, 0),
                "items": box.item_count() if box is not None else 0,
            }
        return {"requests": operations, "mailboxes": mailboxes}


class _Handler(BoundedHandler):
    server: SimulatorHTTPServer
    max_request_bytes = MAX_REQUEST_BYTES

    def do_GET(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path
        body = self.read_body()
        if body is None:
            return
        simulator = self.server.simulator
        if path.lower() == EWS_PATH and method == "POST":
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = simulator.handle_ews(headers, body)
        elif path.startswith("/_sim/"):
            reply = simulator.handle_admin(method, path, body)
        elif simulator.oauth and (answer := simulator.oauth.route(method, path, body)):
            reply = Reply(answer[0], answer[1], "application/json")
        else:
            reply = Reply(404, b"Not Found", "text/plain")
        self.answer(reply)


class SimulatorHTTPServer(SimulatorServerBase):
    def __init__(
        self,
        address: tuple[str, int],
        simulator: Simulator,
        identity: ServerIdentity | None = None,
    ) -> None:
        """With an `identity`, HTTPS and the OAuth2 authority; without, plain HTTP."""
        super().__init__(address, _Handler, identity)
        self.simulator = simulator
        if identity is not None:
            simulator.oauth = OAuthEndpoints(
                self.url, simulator.auth.clients, simulator.auth.token_lifetime_seconds
            )

    @property
    def ews_url(self) -> str:
        return f"{self.url}/EWS/Exchange.asmx"
