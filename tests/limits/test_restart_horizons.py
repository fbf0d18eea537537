"""A signature used before a restart or a loss of Redis's data is refused after it, every time.

Loops, not one try: the window these close was a matter of timing (a restart within a
second's grace, a Redis flushed within the second its horizon was rounded to).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import redis
from fastapi.testclient import TestClient

from app.main import create_app
from app.seaweed import free_ports
from bench.server import ServiceProcess
from tests.conftest import SettingsFactory, Subnet
from tests.redis_server import RedisServer
from tests.serving.conftest import REPO, service_env
from tests.signing import compact, miner_body, tao_headers

GRANT = "/get-folder-access"
RESTARTS = 5
LOSSES = 8


def signed_grant(subnet: Subnet) -> tuple[bytes, dict[str, str]]:
    raw = compact({"coldkey": subnet.miner.coldkey.ss58_address})
    return raw, tao_headers(subnet.miner.hotkey, raw)


def refused_as_signed_before_store(response: httpx2.Response) -> bool:
    return response.status_code == 401 and response.json()["code"] == "signed_before_store"


def test_a_request_used_before_a_sigterm_restart_is_refused_after_every_restart(
    tmp_path: Path, subnet: Subnet
) -> None:
    metagraph = tmp_path / "metagraph.json"
    metagraph.write_text(json.dumps(subnet.metagraph()))
    service = ServiceProcess(
        service_env(metagraph, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"),
        port=free_ports(1)[0],
        source_dir=REPO,
        log_path=tmp_path / "serve.log",
    )
    outcomes = []
    with service:
        for _ in range(RESTARTS):
            raw, headers = signed_grant(subnet)
            legacy = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
            used = httpx2.post(service.base_url + GRANT, content=raw, headers=headers)
            used_legacy = httpx2.post(service.base_url + GRANT, json=legacy)
            assert (used.status_code, used_legacy.status_code) == (200, 200), used.text
            service.stop()  # SIGTERM, and straight back up
            service.start()
            replayed = httpx2.post(service.base_url + GRANT, content=raw, headers=headers)
            replayed_legacy = httpx2.post(service.base_url + GRANT, json=legacy)
            outcomes.append(
                refused_as_signed_before_store(replayed)
                and refused_as_signed_before_store(replayed_legacy)
            )
        raw, headers = signed_grant(subnet)
        fresh = httpx2.post(service.base_url + GRANT, content=raw, headers=headers)

    assert outcomes == [True] * RESTARTS
    assert fresh.status_code == 200


def test_a_request_replayed_right_after_redis_is_flushed_is_refused_every_time(
    make_settings: SettingsFactory, subnet: Subnet, shared_redis: str
) -> None:
    outcomes = []
    with (
        TestClient(create_app(make_settings(rate_limit_storage=shared_redis))) as client,
        redis.Redis.from_url(shared_redis) as admin,
    ):
        for _ in range(LOSSES):
            raw, headers = signed_grant(subnet)
            assert client.post(GRANT, content=raw, headers=headers).status_code == 200
            admin.flushall()  # the same millisecond, as near as a test gets
            replayed = client.post(GRANT, content=raw, headers=headers)
            outcomes.append(refused_as_signed_before_store(replayed))  # type: ignore[arg-type]
        raw, headers = signed_grant(subnet)
        fresh = client.post(GRANT, content=raw, headers=headers)

    assert outcomes == [True] * LOSSES
    assert fresh.status_code == 200


def test_a_request_replayed_after_redis_restarts_empty_is_refused_every_time(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    outcomes = []
    with TestClient(create_app(make_settings(rate_limit_storage=redis_server.url))) as client:
        for _ in range(RESTARTS):
            raw, headers = signed_grant(subnet)
            assert client.post(GRANT, content=raw, headers=headers).status_code == 200
            redis_server.stop()
            redis_server.start()
            replayed = client.post(GRANT, content=raw, headers=headers)
            outcomes.append(refused_as_signed_before_store(replayed))  # type: ignore[arg-type]

    assert outcomes == [True] * RESTARTS
