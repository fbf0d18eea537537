"""Operators' metrics: answers by route template and status, and the metagraph's state."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Subnet
from tests.signing import miner_body


def sample(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return None


def test_metrics_count_grants_and_refusals_by_route(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    client.post("/get-folder-access", json=body)
    client.post("/get-folder-access", json=body)
    client.get("/no-such-page")

    text = client.get("/metrics").text

    route = "/get-folder-access"
    assert sample(text, "s3auth_http_requests_total", route=route, status="200") == 1
    assert sample(text, "s3auth_http_requests_total", route=route, status="401") == 1
    assert sample(text, "s3auth_http_requests_total", route="unmatched", status="404") == 1
    assert sample(text, "s3auth_http_request_duration_seconds_count", route=route) == 2


def test_metrics_report_the_metagraph(client: TestClient) -> None:
    text = client.get("/metrics").text

    assert sample(text, "s3auth_metagraph_neurons") == 4
    assert sample(text, "s3auth_metagraph_block") == 100
    age = sample(text, "s3auth_metagraph_age_seconds")
    assert age is not None and age >= 0


def test_metrics_count_refusals_by_code(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    client.post("/get-folder-access", json=body)
    client.post("/get-folder-access", json=body)
    client.post("/get-folder-access", content=b"{not json")
    client.post("/get-folder-access", content=b"x" * (300 * 1024))

    text = client.get("/metrics").text

    def refusals(code: str) -> float | None:
        return sample(text, "s3auth_http_refusals_total", code=code, route="/get-folder-access")

    assert refusals("replayed") == 1
    assert refusals("invalid_json") == 1
    # Refused by the body-size middleware, before routing.
    assert sample(text, "s3auth_http_refusals_total", code="payload_too_large", route="unmatched")
    assert refusals("bad_signature") is None
