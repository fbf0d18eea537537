"""Separate app instances sharing one Redis behave as one service: one quota, one use."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from app.auth.replay import RedisReplayStore
from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.signing import btauth_request, compact, miner_body, tao_headers

GRANT = "/get-folder-access"


@pytest.fixture
def two_apps(make_settings: SettingsFactory, shared_redis: str) -> Iterator[Any]:
    """Two app instances, as two workers or replicas would be, over the same Redis."""

    def start(**overrides: Any) -> tuple[TestClient, TestClient]:
        settings = make_settings(rate_limit_storage=shared_redis, **overrides)
        first = TestClient(create_app(settings)).__enter__()
        second = TestClient(create_app(settings)).__enter__()
        started.extend([first, second])
        return first, second

    started: list[TestClient] = []
    yield start
    for client in started:
        client.__exit__(None, None, None)


def test_two_apps_share_one_ip_limit(two_apps: Any) -> None:
    first, second = two_apps(rate_limit_ip="3/minute")

    statuses = [
        first.get("/nope").status_code,
        second.get("/nope").status_code,
        first.get("/nope").status_code,
        second.get("/nope").status_code,
        first.get("/nope").status_code,
    ]

    assert statuses == [404, 404, 404, 429, 429]


def test_two_apps_share_one_miner_quota(two_apps: Any, subnet: Subnet) -> None:
    first, second = two_apps(rate_limit_miner="3/hour")
    coldkey = subnet.miner.coldkey.ss58_address

    def grant(client: TestClient) -> int:
        return client.post(GRANT, json=miner_body(subnet.miner.hotkey, coldkey)).status_code

    assert [grant(first), grant(second), grant(first), grant(second), grant(first)] == [
        200,
        200,
        200,
        429,
        429,
    ]


def test_legacy_signature_used_on_one_app_is_refused_by_the_other(
    two_apps: Any, subnet: Subnet
) -> None:
    first, second = two_apps()
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)

    accepted = first.post(GRANT, json=body)
    replayed = second.post(GRANT, json=body)

    assert accepted.status_code == 200
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "replayed"


def test_btauth_nonce_used_on_one_app_is_refused_by_the_other(
    two_apps: Any, subnet: Subnet
) -> None:
    first, second = two_apps()
    raw, headers = btauth_request(
        subnet.miner.hotkey, GRANT, {"coldkey": subnet.miner.coldkey.ss58_address, "source": "x"}
    )

    accepted = first.post(GRANT, content=raw, headers=headers)
    replayed = second.post(GRANT, content=raw, headers=headers)

    assert accepted.status_code == 200, accepted.text
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "replayed"


def test_counters_expire_after_their_window(two_apps: Any, subnet: Subnet) -> None:
    first, second = two_apps(rate_limit_ip="2/second")

    assert [first.get("/nope").status_code, second.get("/nope").status_code] == [404, 404]
    refused = first.get("/nope")
    assert refused.status_code == 429
    time.sleep(int(refused.headers["Retry-After"]) + 0.2)

    assert second.get("/nope").status_code == 404


def test_every_shared_key_carries_an_expiry(
    two_apps: Any, subnet: Subnet, shared_redis: str
) -> None:
    first, _ = two_apps(rate_limit_ip="10/minute", rate_limit_miner="10/hour")
    assert (
        first.post(
            GRANT, json=miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
        ).status_code
        == 200
    )

    with redis.Redis.from_url(shared_redis) as client:
        ttls = {key.decode(): client.pttl(key) for key in client.scan_iter()}

    replay_keys = [k for k in ttls if k.startswith("s3auth:replay:")]
    limit_keys = [k for k in ttls if k.startswith("s3auth:limits")]
    assert len(replay_keys) == 1
    assert len(limit_keys) == 2  # the IP's and the miner hotkey's
    # A legacy signature is remembered only while its timestamp could pass (300 s + 60 s).
    assert 0 < ttls[replay_keys[0]] <= 361_000
    # A sliding window counter keeps this window's count and the previous one's.
    assert all(0 < ttls[k] <= 2 * 3600_000 for k in limit_keys)
    # The replay horizon alone never expires: it must vanish only with Redis's data.
    assert ttls.pop(RedisReplayStore.HORIZON_KEY) == -1
    assert set(ttls) == set(replay_keys) | set(limit_keys)


def test_a_tao_nonce_used_on_one_app_is_replayed_on_the_other(
    two_apps: Any, subnet: Subnet
) -> None:
    first, second = two_apps()
    raw = compact({"coldkey": subnet.miner.coldkey.ss58_address})
    headers = tao_headers(subnet.miner.hotkey, raw)

    accepted = first.post(GRANT, content=raw, headers=headers)
    replayed = second.post(GRANT, content=raw, headers=headers)

    assert accepted.status_code == 200
    assert (replayed.status_code, replayed.json()["code"]) == (401, "replayed")


def test_a_refused_quota_gives_the_nonce_back_in_redis(two_apps: Any, subnet: Subnet) -> None:
    first, second = two_apps(rate_limit_miner="1/hour")
    raw = compact({"coldkey": subnet.miner.coldkey.ss58_address})
    assert first.post(GRANT, content=raw, headers=tao_headers(subnet.miner.hotkey, raw)).is_success
    headers = tao_headers(subnet.miner.hotkey, raw)

    refused = first.post(GRANT, content=raw, headers=headers)
    resent = second.post(GRANT, content=raw, headers=headers)

    assert refused.status_code == resent.status_code == 429
