"""What the simulators' HTTP servers share: bounded requests, replies, TLS, quiet failures.

A threading server handles concurrent clients; every connection has a socket timeout and every
request a size limit, so slow or oversized clients cannot hang or exhaust it. With TLS, the
handshake happens in each connection's own thread, not in the accept loop.
"""

from __future__ import annotations

import ssl
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ews_simulator.tls import ServerIdentity

SOCKET_TIMEOUT_SECONDS = 30


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without an answer (an injected fault)


class BoundedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_SECONDS
    max_request_bytes = 20 * 1024 * 1024

    def log_message(self, format: str, *args: Any) -> None:
        # Request logging would drown test output; the stats endpoint counts requests instead.
        return

    def read_body(self) -> bytes | None:
        """The request body, or None once a refusal (411, 413) has been sent."""
        if self.headers.get("Transfer-Encoding"):
            self.answer(Reply(411, b"Content-Length required", "text/plain"), close=True)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_request_bytes:
            self.answer(Reply(413, b"Request too large", "text/plain"), close=True)
            return None
        return self.rfile.read(length) if length else b""

    def answer(self, reply: Reply, close: bool = False) -> None:
        if reply.drop:
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply.body)


class SimulatorServerBase(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BoundedHandler],
        identity: ServerIdentity | None,
    ) -> None:
        super().__init__(address, handler)
        self.tls = identity is not None
        if identity is not None:
            self.socket = identity.ssl_context().wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-exchange or fail the handshake are routine (timeouts,
        # dropped faults); anything else is a bug worth printing.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError | ssl.SSLError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"


class BackgroundServer:
    """A simulator's server on a free loopback port, served from a background thread while a
    test runs; with TLS, the CA it generated is in `ca_file` for clients to trust."""

    def __init__(self, http: SimulatorServerBase, identity: ServerIdentity | None) -> None:
        self._http = http
        self._folder = tempfile.TemporaryDirectory(prefix="crmsync-sim-")
        self.ca_file = Path(self._folder.name) / "ca.pem"
        if identity is not None:
            self.ca_file.write_bytes(identity.ca_pem)
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._http.serve_forever, name=type(self).__name__, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()
        self._folder.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._http.url
