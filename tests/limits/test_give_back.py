"""A request refused after its claim leaves nothing behind: not its nonce, not its count."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.redis_server import RedisServer
from tests.signing import compact, miner_body, tao_headers

LATEST = "/dynamic-desirability/miner/get-latest-list"
SUBMIT = "/on-demand/miner/jobs/submit"
GRANT = "/get-folder-access"


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("shared_redis")


def test_a_no_list_refusal_gives_the_nonce_and_the_quota_back(
    make_settings: SettingsFactory, subnet: Subnet, storage: str
) -> None:
    settings = make_settings(rate_limit_storage=storage, rate_limit_miner="1/hour")
    headers = tao_headers(subnet.miner.hotkey, b"")
    with TestClient(create_app(settings)) as client:
        first = client.get(LATEST, headers=headers)
        again = client.get(LATEST, headers=headers)
        coldkey = subnet.miner.coldkey.ss58_address
        grant = client.post(GRANT, json=miner_body(subnet.miner.hotkey, coldkey))

    assert (first.status_code, first.json()["code"]) == (404, "no_list")
    assert (again.status_code, again.json()["code"]) == (404, "no_list")  # not "replayed"
    assert grant.status_code == 200  # the one request of the hour was not spent on a 404


def test_a_submission_refused_for_its_job_can_be_sent_again(
    make_settings: SettingsFactory, subnet: Subnet, storage: str
) -> None:
    settings = make_settings(rate_limit_storage=storage, rate_limit_ondemand_failures="")
    raw = compact({"submission": {"job_id": str(uuid.uuid4()), "s3_path": "x"}})
    headers = tao_headers(subnet.miner.hotkey, raw)
    with TestClient(create_app(settings)) as client:
        first = client.post(SUBMIT, content=raw, headers=headers)
        again = client.post(SUBMIT, content=raw, headers=headers)

    assert first.status_code == 404, first.text
    assert (again.status_code, again.json()["code"]) == (404, first.json()["code"])


def test_an_admitted_request_is_still_replayed(
    make_settings: SettingsFactory, subnet: Subnet, storage: str
) -> None:
    settings = make_settings(rate_limit_storage=storage)
    raw = compact({"coldkey": subnet.miner.coldkey.ss58_address})
    headers = tao_headers(subnet.miner.hotkey, raw)
    with TestClient(create_app(settings)) as client:
        assert client.post(GRANT, content=raw, headers=headers).status_code == 200
        replayed = client.post(GRANT, content=raw, headers=headers)

    assert (replayed.status_code, replayed.json()["code"]) == (401, "replayed")


def test_per_ip_refusals_during_a_redis_outage_name_their_route(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    settings = make_settings(rate_limit_storage=redis_server.url, rate_limit_ip="100/minute")
    with TestClient(create_app(settings)) as client:
        redis_server.stop()
        coldkey = subnet.miner.coldkey.ss58_address
        refused = client.post(GRANT, json=miner_body(subnet.miner.hotkey, coldkey))
        metrics = client.get("/metrics").text

    assert refused.status_code == 503
    assert any(
        line.startswith("s3auth_http_refusals_total{")
        and 'route="/get-folder-access"' in line
        and 'code="store_unavailable"' in line
        for line in metrics.splitlines()
    )
    assert 'route="unmatched"' not in metrics
