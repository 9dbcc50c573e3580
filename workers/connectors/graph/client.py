"""Microsoft Graph over httpx, app-only tokens from MSAL, throttling honoured, JSON `$batch`.

* Tokens: the client-credentials grant of the tenant's app registration (a client secret or a
  certificate), cached by MSAL until shortly before they expire.
* Trust: the system's CAs plus `CRMSYNC_CA_BUNDLE` when set (an internal CA, a test simulator);
  MSAL's own requests go through the same httpx client.
* Throttling: a 429 or 503 is retried after its Retry-After (capped), a few times, for whole
  requests and for the members of a `$batch` alike; what still fails is raised (a request) or
  returned (a batch member), so one throttled item never fails its neighbours.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal

from workers.connectors.graph.msal_http import MsalHttpClient

logger = logging.getLogger("crmsync.graph")

BATCH_LIMIT = 20
RETRY_STATUSES = frozenset({429, 503, 504})
MAX_ATTEMPTS = 5
MAX_RETRY_AFTER_SECONDS = 120.0
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_AUTHORITY_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class GraphConnection:
    """One tenant's app registration and where to reach Graph; the secret never leaves it."""

    tenant: str
    client_id: str
    client_secret: str | None = None
    client_certificate_pem: str | None = None  # private key and certificate, PEM
    graph_url: str = DEFAULT_GRAPH_URL
    authority_url: str = DEFAULT_AUTHORITY_URL
    ca_bundle: str | None = None
    timeout_seconds: float = 60.0

    def __repr__(self) -> str:
        return f"GraphConnection(tenant={self.tenant!r}, client_id={self.client_id!r})"

    @property
    def scope(self) -> str:
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Graph {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @classmethod
    def of(cls, status: int, body: Any) -> GraphError:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return cls(status, str(error.get("code", "")), str(error.get("message", "")))
        return cls(status, "", str(body)[:200])


class AuthenticationFailed(GraphError):
    pass


@dataclass(frozen=True)
class BatchRequest:
    method: str
    url: str  # relative to the Graph base, e.g. /users/a@b.c/contacts
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class BatchResponse:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> GraphError:
        return GraphError.of(self.status, self.body)


def _certificate_credential(pem: str) -> dict[str, str]:
    """MSAL's certificate credential from one PEM holding the private key and the certificate."""
    begin = "-----BEGIN CERTIFICATE-----"
    if begin not in pem:
        raise ValueError("the client certificate file holds no certificate")
    certificate = pem[pem.index(begin) :]
    return {"private_key": pem, "public_certificate": certificate}


def _retry_after(headers: Any) -> float:
    raw = headers.get("Retry-After") if headers else None
    try:
        seconds = float(raw) if raw is not None else 1.0
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


class GraphClient:
    def __init__(
        self,
        connection: GraphConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_throttled: Callable[[float], None] | None = None,
    ) -> None:
        self.connection = connection
        self.base_url = connection.graph_url.rstrip("/")
        context = ssl.create_default_context()
        if connection.ca_bundle:
            context.load_verify_locations(cafile=connection.ca_bundle)
        self.http = httpx.Client(verify=context, timeout=connection.timeout_seconds)
        self._sleep = sleep
        self._on_throttled = on_throttled
        authority_url = connection.authority_url.rstrip("/")
        credential: Any = connection.client_secret
        if connection.client_certificate_pem:
            credential = _certificate_credential(connection.client_certificate_pem)
        self._msal = msal.ConfidentialClientApplication(
            connection.client_id,
            client_credential=credential,
            authority=f"{authority_url}/{connection.tenant}",
            # Microsoft's instance discovery knows Microsoft's authorities only.
            instance_discovery=authority_url == DEFAULT_AUTHORITY_URL,
            http_client=MsalHttpClient(self.http),
        )

    def close(self) -> None:
        self.http.close()

    def _token(self) -> str:
        result = self._msal.acquire_token_for_client(scopes=[self.connection.scope])
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            error = result.get("error", "") if isinstance(result, dict) else ""
            description = result.get("error_description", "") if isinstance(result, dict) else ""
            raise AuthenticationFailed(401, str(error), str(description)[:300])
        return str(token)

    def _wait(self, seconds: float) -> None:
        if self._on_throttled is not None:
            self._on_throttled(seconds)
        self._sleep(seconds)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request (a path below the Graph base, or an absolute link Graph returned)."""
        target = (
            url if url.startswith("https://") or url.startswith("http://") else self.base_url + url
        )
        for attempt in range(1, MAX_ATTEMPTS + 1):
            sent = {"Authorization": f"Bearer {self._token()}", **(headers or {})}
            response = self.http.request(method, target, json=json, params=params, headers=sent)
            if response.status_code in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                self._wait(_retry_after(response.headers))
                continue
            if response.is_success:
                return response
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise GraphError.of(response.status_code, body)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        body = self.request("GET", url, **kwargs).json()
        assert isinstance(body, dict)
        return body

    def pages(self, url: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a collection or delta round, following `@odata.nextLink`."""
        page = self.get_json(url, **kwargs)
        yield page
        headers = kwargs.get("headers")
        while "@odata.nextLink" in page:
            page = self.get_json(str(page["@odata.nextLink"]), headers=headers)
            yield page

    def batch(self, requests: Sequence[BatchRequest]) -> list[BatchResponse]:
        """The requests in `$batch` calls of at most 20; one response per request, in order."""
        results: list[BatchResponse | None] = [None] * len(requests)
        for start in range(0, len(requests), BATCH_LIMIT):
            pending = list(range(start, min(start + BATCH_LIMIT, len(requests))))
            for attempt in range(1, MAX_ATTEMPTS + 1):
                answers = self._post_batch({n: requests[n] for n in pending})
                retry = [n for n in pending if answers[n].status in RETRY_STATUSES]
                for n in pending:
                    results[n] = answers[n]
                if not retry or attempt == MAX_ATTEMPTS:
                    break
                self._wait(max(_retry_after(answers[n].headers) for n in retry))
                pending = retry
        return [r for r in results if r is not None]

    def _post_batch(self, requests: dict[int, BatchRequest]) -> dict[int, BatchResponse]:
        members = []
        for n, request in requests.items():
            member: dict[str, Any] = {"id": str(n), "method": request.method, "url": request.url}
            headers = dict(request.headers or {})
            if request.body is not None:
                member["body"] = request.body
                headers.setdefault("Content-Type", "application/json")
            if headers:
                member["headers"] = headers
            members.append(member)
        body = self.request("POST", "/$batch", json={"requests": members}).json()
        answers: dict[int, BatchResponse] = {}
        for answer in body.get("responses", []):
            answers[int(answer["id"])] = BatchResponse(
                int(answer["status"]), answer.get("body"), dict(answer.get("headers") or {})
            )
        missing = set(requests) - set(answers)
        if missing:
            raise GraphError(502, "BatchIncomplete", f"no answer for batch members {missing}")
        return answers
