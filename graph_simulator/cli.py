"""The `graph-simulator` command."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from graph_simulator import auth
from graph_simulator.server import GraphHTTPServer, GraphSimulator
from graph_simulator.tls import generate_identity


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="graph-simulator", description="A Microsoft Graph (Exchange Online) simulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--user", action="append", default=[], metavar="SMTP", help="a mailbox (repeatable)"
    )
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="an app registration with a client secret (repeatable)",
    )
    parser.add_argument(
        "--client-certificate",
        action="append",
        default=[],
        metavar="ID:PEMFILE",
        help="an app registration's certificate, for client assertions (repeatable)",
    )
    parser.add_argument("--ca-out", type=Path, help="write the generated CA certificate here")
    return parser.parse_args(argv)


def _clients(args: argparse.Namespace) -> auth.Clients:
    clients = auth.Clients()
    for spec in args.client:
        client_id, sep, secret = spec.partition(":")
        if not sep or not client_id or not secret:
            raise ValueError(f"--client expects ID:SECRET, got {spec!r}")
        clients.secrets[client_id] = secret
    for spec in args.client_certificate:
        client_id, sep, path = spec.partition(":")
        if not sep or not client_id:
            raise ValueError(f"--client-certificate expects ID:PEMFILE, got {spec!r}")
        clients.add_certificate(client_id, Path(path).read_bytes())
    return clients


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        clients = _clients(args)
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
