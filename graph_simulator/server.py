"""The HTTPS server: the authority, `/v1.0`, upload sessions and the JSON test API under /_sim/.

The server's limits (socket timeouts, request sizes) and TLS are ews_simulator.http's.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from ews_simulator import authority as auth
from ews_simulator.http import BoundedHandler, Reply, SimulatorServerBase
from ews_simulator.tls import ServerIdentity
from graph_simulator import mail
from graph_simulator.api import Dropped, GraphApi, parse_fault
from graph_simulator.odata import GraphError, Response
from graph_simulator.seed import seed_mailbox
from graph_simulator.store import Store

MAX_REQUEST_BYTES = 64 * 1024 * 1024
GRAPH_AUDIENCE = "https://graph.microsoft.com"
_OPENID = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$")
_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")


class GraphSimulator:
    """Everything behind the socket."""

    def __init__(
        self,
        users: list[str] | None = None,
        clients: auth.Clients | None = None,
        graph_audience: str = GRAPH_AUDIENCE,
    ) -> None:
        self.store = Store(users)
        for smtp in users or []:
            self.store.mailbox(smtp)
        self.api = GraphApi(self.store, clients or auth.Clients(), graph_audience)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        path = urlsplit(target).path
        if path.startswith("/_sim/"):
            return self.admin(method, path, body)
        if path.startswith("/v1.0/"):
            return self.api.serve(method, target[len("/v1.0") :], headers, body)
        if path.startswith(mail.UPLOAD_PREFIX) and method == "PUT":
            return mail.upload_chunk(self.api, path, headers, body)
        openid = _OPENID.match(path)
        if openid and method == "GET":
            return self.api.openid(openid.group(1))
        token = _TOKEN.match(path)
        if token and method == "POST":
            return self.api.token(token.group(1), body)
        return GraphError(404, "NotFound", f"No such endpoint: {method} {path}").response()

    # --- test API ------------------------------------------------------------------------
    def admin(self, method: str, path: str, body: bytes) -> Response:
        try:
            data = json.loads(body) if body.strip() else {}
            if not isinstance(data, dict):
                raise ValueError("The body must be a JSON object.")
            status, result = self._admin(method, path.rstrip("/"), data)
        except (ValueError, KeyError, TypeError) as e:
            status, result = 400, {"error": str(e)}
        return Response(status, result)

    def _admin(self, method: str, path: str, data: dict[str, Any]) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.split("/")[2:]]
        if method == "POST" and parts == ["reset"]:
            self.api.reset()
            return 200, {"reset": True}
        if method == "POST" and parts == ["mailboxes"]:
            box = self._mailbox(str(data["smtp"]))
            return 200, {"smtp": box.smtp, "id": box.user_id}
        if method == "POST" and parts == ["seed"]:
            return self._seed(str(data.pop("mailbox")), data)
        if method == "POST" and len(parts) == 3 and parts[0] == "mailboxes" and parts[2] == "seed":
            return self._seed(parts[1], data)
        if parts == ["stats"] and method == "GET":
            return 200, self.api.stats()
        if parts == ["stats"] and method == "DELETE":
            self.api.clear_stats()
            return 200, {"cleared": True}
        if parts == ["faults"] and method == "POST":
            self.api.control.add_fault(parse_fault(data))
            return 200, {"added": True}
        if parts == ["faults"] and method == "DELETE":
            self.api.control.clear_faults()
            return 200, {"cleared": True}
        if parts == ["delta-tokens"] and method == "DELETE":
            # Every delta token expires: the next delta answers 410 syncStateNotFound.
            self.api.deltas.clear()
            return 200, {"cleared": True}
        if parts == ["access-tokens"] and method == "DELETE":
            self.api.authority.expire_all()
            return 200, {"cleared": True}
        return 404, {"error": f"No such test API endpoint: {method} {path}"}

    def _mailbox(self, smtp: str) -> Any:
        smtp = smtp.strip().lower()
        if "@" not in smtp:
            raise ValueError("smtp must be an email address")
        box = self.store.mailbox(smtp)
        if box is None:
            raise ValueError(f"{smtp} is not one of the simulator's users")
        return box

    def _seed(self, smtp: str, data: dict[str, Any]) -> tuple[int, Any]:
        counts = {k: int(v) for k, v in data.items()}
        if any(v < 0 for v in counts.values()):
            raise ValueError("counts must not be negative")
        box = self._mailbox(smtp)
        with box.lock:
            created = seed_mailbox(box, counts)
        return 200, {"smtp": box.smtp, "created": created, "items": box.item_count()}


class _Handler(BoundedHandler):
    server: GraphHTTPServer
    max_request_bytes = MAX_REQUEST_BYTES

    def do_GET(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("POST")

    def do_PATCH(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("PATCH")

    def do_PUT(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802 - http.server names its handlers so
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        body = self.read_body()
        if body is None:
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            response = self.server.simulator.handle(method, self.path, headers, body)
        except Dropped:
            self.answer(Reply(0, b"", drop=True))
            return
        self.answer(
            Reply(response.status, response.encoded(), response.content_type, response.headers)
        )


class GraphHTTPServer(SimulatorServerBase):
    def __init__(
        self, address: tuple[str, int], simulator: GraphSimulator, identity: ServerIdentity
    ) -> None:
        super().__init__(address, _Handler, identity)
        self.simulator = simulator
        simulator.api.base_url = self.url
