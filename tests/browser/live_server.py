"""A real uvicorn server on a random loopback port, in a thread, for tests that need real HTTP.

The socket is bound before the app is built, so the app's settings can name its own URL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


class LiveServer:
    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    @contextmanager
    def serving(self, app: FastAPI) -> Iterator[str]:
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_keep_alive=1))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [self.socket]})
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        try:
            yield self.url
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            self.socket.close()
