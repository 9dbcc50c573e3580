"""Health, metrics, docs, and errors as JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_checks_database_and_broker(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "rate_limits": "ok"},
    }


def test_metrics_in_prometheus_format(client: TestClient) -> None:
    client.get("/health")
    body = client.get("/metrics").text
    assert "crmsync_http_requests_total" in body


def test_openapi_and_docs(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/users" in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_unknown_route_is_json(client: TestClient) -> None:
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_malformed_json_is_422_with_location(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/users",
        content=b"{not json",
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body")
