"""The `graph-simulator` command."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from ews_simulator import authority as auth
from ews_simulator.tls import generate_identity
from graph_simulator.server import GraphHTTPServer, GraphSimulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="graph-simulator", description="A Microsoft Graph (Exchange Online) simulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--user", action="append", default=[], metavar="SMTP", help="a mailbox (repeatable)"
    )
    auth.add_client_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        clients = auth.clients_from_arguments(args)
    except (ValueError, OSError) as e:
        print(str(e), file=sys.stderr)
        return 2
    identity = generate_identity(args.host)
    if args.ca_out is not None:
        args.ca_out.write_bytes(identity.ca_pem)
    simulator = GraphSimulator(args.user, clients)
    server = GraphHTTPServer((args.host, args.port), simulator, identity)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    print(f"graph-simulator listening on {server.url}", flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
