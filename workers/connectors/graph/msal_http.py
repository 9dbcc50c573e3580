"""The HTTP client MSAL uses: crmsync's own httpx client, so one set of trusted CAs applies.

MSAL's default requests session would let REQUESTS_CA_BUNDLE silently override the CAs it is
given; and MSAL posts its signed client assertion as bytes, which requests sends as-is but
httpx would write as "b'…'", so form values are decoded here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx


class MsalHttpClient:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        return self._client.get(url, params=params, headers=headers, timeout=kwargs.get("timeout"))

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        if isinstance(data, Mapping):
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self._client.post(
            url, params=params, data=data, headers=headers, timeout=kwargs.get("timeout")
        )

    def close(self) -> None:
        self._client.close()
