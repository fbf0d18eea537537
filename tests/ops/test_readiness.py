"""`/readyz` names the dependency that fails (bucket, database, Redis) within its 2 s bound,
and is ready again once it is back; `/healthz` is `/livez`; `/healthcheck` shows the checks."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ops.readiness import CheckResult, verdict
from config import Settings
from tests.app_state import services_of
from tests.conftest import S3Server, SettingsFactory
from tests.database import empty_postgres_tables
from tests.redis_server import RedisServer
from tests.tcp_proxy import ThreadedProxy

# The contract's bound on a /readyz answer, whatever hangs.
READYZ_BOUND_SECONDS = 2.0


def s3_settings_for(
    make_settings: SettingsFactory, seaweed: S3Server, bucket: str, **extra: Any
) -> Settings:
    return make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        **extra,
    )


def readyz(client: TestClient) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    answer = client.get("/readyz")
    return answer.status_code, answer.json(), time.monotonic() - started


def failing(body: dict[str, Any]) -> dict[str, str]:
    return {
        name: check.get("reason", "")
        for name, check in body["checks"].items()
        if check["status"] == "failing"
    }


def test_verdict_is_ready_unless_a_check_fails() -> None:
    ok = CheckResult("ok")
    assert verdict({"redis": CheckResult("not_configured"), "bucket": ok})[0] == 200
    status, body = verdict({"database": CheckResult("failing", "down"), "bucket": ok})
    assert status == 503 and body["status"] == "not_ready"
    assert body["checks"]["database"] == {"status": "failing", "reason": "down"}


def test_missing_bucket_fails_readyz_naming_it_until_it_is_created(
    make_settings: SettingsFactory, seaweed: S3Server
) -> None:
    name = f"later-{secrets.token_hex(6)}"
    with TestClient(create_app(s3_settings_for(make_settings, seaweed, name))) as client:
        status, body, seconds = readyz(client)
        health = client.get("/healthcheck").json()
        seaweed.client.create_bucket(Bucket=name)
        services_of(client).bucket.every = 0  # re-check now rather than in 10 s
        recovered, after, _ = readyz(client)
    seaweed.client.delete_bucket(Bucket=name)

    assert status == 503 and body["status"] == "not_ready"
    assert list(failing(body)) == ["bucket"] and name in failing(body)["bucket"]
    assert body["checks"]["redis"] == {"status": "not_configured"}
    assert seconds < READYZ_BOUND_SECONDS
    assert health["checks"]["bucket"]["status"] == "failing"
    assert recovered == 200 and after["status"] == "ready"


@pytest.fixture
def proxied_database(
    make_settings: SettingsFactory, postgres_database: str, seaweed: S3Server, bucket: str
) -> Iterator[tuple[TestClient, ThreadedProxy]]:
    empty_postgres_tables(postgres_database)
    parts = urlsplit(postgres_database)
    proxy = ThreadedProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxy.start()
    url = postgres_database.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}", 1)
    try:
        with TestClient(
            create_app(s3_settings_for(make_settings, seaweed, bucket, database_url=url))
        ) as client:
            yield client, proxy
    finally:
        proxy.close()


def test_cut_and_silent_database_fail_readyz_within_the_bound_then_recover(
    proxied_database: tuple[TestClient, ThreadedProxy],
) -> None:
    client, proxy = proxied_database
    before = readyz(client)
    outcomes = []
    for _ in range(3):
        proxy.stop()
        outcomes.append(readyz(client))
        proxy.start()
        proxy.proxy.silent = True
        client.app.state.services.db.engine.sync_engine.dispose()  # type: ignore[attr-defined]
        outcomes.append(readyz(client))
        proxy.proxy.silent = False
        outcomes.append(readyz(client))

    assert before[0] == 200, before[1]
    for cut, silent, back in zip(outcomes[::3], outcomes[1::3], outcomes[2::3], strict=True):
        for status, body, seconds in (cut, silent):
            assert status == 503 and list(failing(body)) == ["database"], body
            assert seconds < READYZ_BOUND_SECONDS
        assert back[0] == 200, back[1]


def test_stopped_redis_fails_readyz_then_recovers(
    make_settings: SettingsFactory, seaweed: S3Server, bucket: str, redis_server: RedisServer
) -> None:
    settings = s3_settings_for(make_settings, seaweed, bucket, rate_limit_storage=redis_server.url)
    with TestClient(create_app(settings)) as client:
        before = readyz(client)
        redis_server.stop()
        down = readyz(client)
        redis_server.start()
        back = readyz(client)

    assert before[0] == 200 and before[1]["checks"]["redis"] == {"status": "ok"}
    assert down[0] == 503 and list(failing(down[1])) == ["redis"]
    assert down[2] < READYZ_BOUND_SECONDS
    assert back[0] == 200


def test_healthz_is_livez(client: TestClient) -> None:
    assert client.get("/healthz").json() == client.get("/livez").json() == {"status": "ok"}
