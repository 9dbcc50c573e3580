"""Prometheus metrics of the API process."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "crmsync_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "crmsync_http_request_seconds", "HTTP request latency", ["method", "route"]
)
