"""The `ews-simulator` command."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from ews_simulator import persistence
from ews_simulator.authority import (
    TOKEN_LIFETIME_SECONDS,
    add_client_arguments,
    clients_from_arguments,
)
from ews_simulator.server import AuthConfig, Simulator, SimulatorHTTPServer
from ews_simulator.tls import generate_identity

SAVE_INTERVAL_SECONDS = 30.0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ews-simulator",
        description="An Exchange 2016 EWS simulator.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8765, help="TCP port")
    parser.add_argument(
        "--data",
        type=Path,
        help=f"JSON file loaded at start, saved every {SAVE_INTERVAL_SECONDS:.0f} s and at exit",
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="register an account (repeatable); with none, any NAME@DOMAIN and password sign in",
    )
    parser.add_argument(
        "--impersonator",
        action="append",
        default=[],
        metavar="NAME",
        help="an account that may impersonate any mailbox",
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="accept requests without credentials"
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate from a CA generated at start (see --ca-out), and an"
        " OAuth2 authority at /{tenant}/ for the --client registrations",
    )
    add_client_arguments(parser)
    parser.add_argument(
        "--token-lifetime",
        type=int,
        default=TOKEN_LIFETIME_SECONDS,
        metavar="SECONDS",
        help="how long access tokens last (short ones exercise the clients' refresh)",
    )
    args = parser.parse_args(argv)
    if not args.tls and (args.client or args.client_certificate or args.ca_out):
        parser.error("--client, --client-certificate and --ca-out need --tls")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    users: dict[str, str] = {}
    for spec in args.user:
        name, sep, password = spec.partition(":")
        if not sep or not name:
            print(f"--user expects NAME:PASSWORD, got {spec!r}", file=sys.stderr)
            return 2
        users[name] = password
    try:
        clients = clients_from_arguments(args)
    except (ValueError, OSError) as e:
        print(str(e), file=sys.stderr)
        return 2
    simulator = Simulator(
        AuthConfig(users, set(args.impersonator), args.no_auth, clients, args.token_lifetime)
    )
    if args.data is not None and args.data.exists():
        persistence.load(simulator.store, args.data)
    identity = generate_identity(args.host) if args.tls else None
    if identity is not None and args.ca_out is not None:
        args.ca_out.write_bytes(identity.ca_pem)
    server = SimulatorHTTPServer((args.host, args.port), simulator, identity)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    print(f"ews-simulator listening on {server.url}", flush=True)
    print(f"EWS endpoint: {server.ews_url}", flush=True)
    if args.no_auth:
        print("warning: --no-auth: requests without credentials are accepted", file=sys.stderr)
    elif not users:
        print(
            "warning: no --user given: any NAME@DOMAIN signs in, with any password",
            file=sys.stderr,
        )
    try:
        while not stop.wait(SAVE_INTERVAL_SECONDS):
            if args.data is not None:
                persistence.save(simulator.store, args.data)
    finally:
        server.shutdown()
        server.server_close()
        if args.data is not None:
            persistence.save(simulator.store, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
