"""OAuth2 on the EWS simulator: its authority (what MSAL asks of one) and bearer-token checks.

As with Exchange SE under hybrid modern authentication, or Exchange Online with an app
allow-listed for EWS: an app gets a client-credentials token for this server's audience (its
scheme, host and port) and acts for mailboxes through the ExchangeImpersonation header only.
Served only over HTTPS: a bearer token on plain HTTP is refused, as it should never be sent.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from ews_simulator.authority import Authority, Clients, TokenError, openid_configuration

_OPENID = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$")
_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
# The principal of a request signed with an app's token, as `_authenticate` returns it.
APP_PREFIX = "app:"


class OAuthEndpoints:
    def __init__(self, base_url: str, clients: Clients, lifetime_seconds: int) -> None:
        self.base_url = base_url
        self.authority = Authority(clients, base_url, lifetime_seconds)

    def route(self, method: str, path: str, body: bytes) -> tuple[int, bytes] | None:
        """The authority's answer (status, JSON) for one of its paths; None for other paths."""
        openid = _OPENID.match(path)
        if openid and method == "GET":
            return 200, json.dumps(openid_configuration(self.base_url, openid.group(1))).encode()
        token = _TOKEN.match(path)
        if token and method == "POST":
            form = dict(parse_qsl(body.decode("utf-8", "replace")))
            endpoint = f"{self.base_url}/{token.group(1)}/oauth2/v2.0/token"
            try:
                return 200, json.dumps(self.authority.issue(form, endpoint)).encode()
            except TokenError as e:
                return e.status, json.dumps(e.body()).encode()
        return None

    def principal(self, authorization: str) -> str | None:
        """`app:<client id>` for a live token issued here (so for this audience), else None."""
        client_id = self.authority.client_of(authorization)
        return None if client_id is None else f"{APP_PREFIX}{client_id}"
