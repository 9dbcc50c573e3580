"""The `ews-simulator` command."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from ews_simulator import persistence
from ews_simulator.server import AuthConfig, Simulator, SimulatorHTTPServer

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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    users: dict[str, str] = {}
    for spec in args.user:
        name, sep, password = spec.partition(":")
        if not sep or not name:
            print(f"--user expects NAME:PASSWORD, got {spec!r}", file=sys.stderr)
            return 2
        users[name] = password
    simulator = Simulator(AuthConfig(users, set(args.impersonator), args.no_auth))
    if args.data is not None and args.data.exists():
        persistence.load(simulator.store, args.data)
    server = SimulatorHTTPServer((args.host, args.port), simulator)
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
