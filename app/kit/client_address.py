"""The client's address behind trusted reverse proxies (CRMSYNC_TRUSTED_PROXIES).

X-Forwarded-For is whatever the sender wrote, so it names the client only when the peer that
sent it is a proxy we run: then the proxy appended the address it saw. Walking the header from
the right, the first address that is not one of our proxies is the client; what lies further
left the client wrote itself. From any other peer the header is ignored, so nobody can rotate
it to escape the failed-authentication limit or aim that limit at someone else's address.

`crmsync serve` turns uvicorn's own proxy handling off (it trusts loopback peers by default);
this middleware is the only place the header is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import IPNetwork


class ClientAddress:
    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[IPNetwork]) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)

    def _is_proxy(self, address: str) -> bool:
        parsed: IPv4Address | IPv6Address
        try:
            parsed = ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self.trusted)

    def client_of(self, peer: str, forwarded_for: str | None) -> str:
        if not forwarded_for or not self._is_proxy(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._is_proxy(hop):
                return hop
        # Every hop is one of ours: the leftmost is as close to the client as we know.
        return hops[0] if hops else peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            peer, port = scope["client"]
            headers = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
            forwarded_for = ",".join(value.decode("latin-1") for value in headers) or None
            client = self.client_of(peer, forwarded_for)
            if client != peer:
                scope = {**scope, "client": (client, port)}
        await self.app(scope, receive, send)
