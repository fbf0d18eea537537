"""Redis down or silent: clear 503s that come back quickly, and recovery without a restart."""

from __future__ import annotations

import logging
import math
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import stores
from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.redis_server import RedisServer
from tests.signing import btauth_request, miner_body

GRANT = "/get-folder-access"


def grant(client: TestClient, subnet: Subnet) -> Any:
    return client.post(
        GRANT, json=miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    )


def btauth_grant(client: TestClient, subnet: Subnet) -> Any:
    raw, headers = btauth_request(
        subnet.miner.hotkey, GRANT, {"coldkey": subnet.miner.coldkey.ss58_address, "source": "x"}
    )
    return client.post(GRANT, content=raw, headers=headers)


def signed_after_recovery(client: TestClient) -> None:
    """Redis came back empty: the service sets its horizon (as it does within a second on
    its own), and the next requests are signed after it (legacy timestamps are seconds)."""
    client.portal.call(client.app.state.services.replay.horizon)  # type: ignore[attr-defined]
    time.sleep(math.ceil(time.time()) - time.time() + 0.01)


def assert_store_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "store_unavailable"
    assert "Redis" in response.json()["detail"]
    assert int(response.headers["Retry-After"]) > 0


def test_stopped_redis_gives_503_and_service_recovers_when_it_returns(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    settings = make_settings(
        rate_limit_storage=redis_server.url,
        rate_limit_ip="100/minute",
        rate_limit_miner="100/hour",
    )
    with TestClient(create_app(settings)) as client:
        assert grant(client, subnet).status_code == 200

        redis_server.stop()
        assert_store_unavailable(grant(client, subnet))
        assert_store_unavailable(btauth_grant(client, subnet))
        assert client.get("/healthcheck").status_code == 200

        redis_server.start()
        signed_after_recovery(client)
        assert grant(client, subnet).status_code == 200
        assert btauth_grant(client, subnet).status_code == 200


def test_app_started_while_redis_is_down_serves_once_it_is_up(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    redis_server.stop()
    settings = make_settings(rate_limit_storage=redis_server.url, rate_limit_ip="100/minute")
    with TestClient(create_app(settings)) as client:
        assert_store_unavailable(grant(client, subnet))
        redis_server.start()
        signed_after_recovery(client)
        assert grant(client, subnet).status_code == 200


def test_replay_checks_fail_closed_even_when_limits_fail_open(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    settings = make_settings(
        rate_limit_storage=redis_server.url,
        rate_limit_ip="100/minute",
        rate_limit_miner="100/hour",
        rate_limit_fail_open=True,
    )
    with TestClient(create_app(settings)) as client:
        redis_server.stop()
        legacy = grant(client, subnet)
        signed = btauth_grant(client, subnet)

    assert_store_unavailable(legacy)
    assert_store_unavailable(signed)
    assert "replay" in legacy.json()["detail"]


def test_fail_open_serves_without_limits_while_redis_is_down(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    # With replay protection off, legacy grants need nothing but the counters from Redis.
    settings = make_settings(
        rate_limit_storage=redis_server.url,
        rate_limit_ip="100/minute",
        rate_limit_miner="100/hour",
        rate_limit_fail_open=True,
        replay_protection=False,
    )
    with TestClient(create_app(settings)) as client:
        redis_server.stop()
        assert grant(client, subnet).status_code == 200


def test_rate_limits_fail_closed_by_default(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    settings = make_settings(
        rate_limit_storage=redis_server.url, rate_limit_ip="100/minute", replay_protection=False
    )
    with TestClient(create_app(settings)) as client:
        redis_server.stop()
        response = grant(client, subnet)

    assert_store_unavailable(response)
    assert "rate limit" in response.json()["detail"]


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers, like a hung or black-holed Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.mark.parametrize("limits_on", [True, False])
def test_silent_redis_gives_503_instead_of_hanging(
    make_settings: SettingsFactory, subnet: Subnet, silent_redis: str, limits_on: bool
) -> None:
    settings = make_settings(
        rate_limit_storage=silent_redis, rate_limit_ip="100/minute" if limits_on else ""
    )
    with TestClient(create_app(settings)) as client:
        assert_store_unavailable(grant(client, subnet))


def test_outage_is_logged_without_the_redis_password(
    make_settings: SettingsFactory,
    subnet: Subnet,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stores, "_next_log", 0.0)
    url = f"redis://:hunter2-secret@127.0.0.1:{redis_server.port}/0"
    redis_server.stop()
    with (
        caplog.at_level(logging.ERROR, logger="app.stores"),
        TestClient(create_app(make_settings(rate_limit_storage=url))) as client,
    ):
        for _ in range(3):
            assert_store_unavailable(grant(client, subnet))

    outage_lines = [r.getMessage() for r in caplog.records if r.name == "app.stores"]
    assert len(outage_lines) == 1
    assert "Redis" in outage_lines[0]
    assert "hunter2" not in caplog.text
