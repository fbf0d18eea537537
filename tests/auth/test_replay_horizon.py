"""A used signature is never accepted twice, even after the store forgot it (a restart)."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from app.auth.replay import MemoryReplayStore, RedisReplayStore, SignedBeforeStore
from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.redis_server import RedisServer
from tests.signing import btauth_request, miner_body

GRANT = "/get-folder-access"


def next_second() -> None:
    """Into the next whole second: horizons are whole seconds."""
    time.sleep(math.ceil(time.time()) - time.time() + 0.01)


def restart_pause() -> None:
    """Into the second after the restart: a fresh legacy timestamp is after the horizon."""
    next_second()


def btauth_grant(subnet: Subnet) -> tuple[bytes, dict[str, str]]:
    body = {"coldkey": subnet.miner.coldkey.ss58_address, "source": "x"}
    return btauth_request(subnet.miner.hotkey, GRANT, body)


def assert_signed_before_store(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "signed_before_store"


def test_memory_store_refuses_what_was_signed_before_it_started() -> None:
    async def scenario() -> None:
        store = MemoryReplayStore()
        with pytest.raises(SignedBeforeStore):
            await store.claim("old", 60, signed_at=store.horizon - 1)
        assert await store.claim("new", 60, signed_at=time.time())
        assert await store.claim("unsigned", 60)

    asyncio.run(scenario())


def test_used_signatures_are_refused_after_redis_loses_its_data(
    make_settings: SettingsFactory, subnet: Subnet, redis_server: RedisServer
) -> None:
    settings = make_settings(rate_limit_storage=redis_server.url)
    with TestClient(create_app(settings)) as client:
        legacy = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
        raw, headers = btauth_grant(subnet)
        assert client.post(GRANT, json=legacy).status_code == 200
        assert client.post(GRANT, content=raw, headers=headers).status_code == 200

        redis_server.stop()  # started without persistence: every used nonce is gone
        next_second()
        redis_server.start()

        assert_signed_before_store(client.post(GRANT, json=legacy))
        assert_signed_before_store(client.post(GRANT, content=raw, headers=headers))
        next_second()
        fresh = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
        assert client.post(GRANT, json=fresh).status_code == 200
        assert client.post(GRANT, json=fresh).json()["code"] == "replayed"


def test_redis_horizon_is_shared_and_kept_while_redis_keeps_its_data(
    shared_redis: str,
) -> None:
    with redis.Redis.from_url(shared_redis) as client:
        client.delete(RedisReplayStore.HORIZON_KEY)  # a Redis the service never used

    async def scenario() -> None:
        first, second = RedisReplayStore(shared_redis), RedisReplayStore(shared_redis)
        try:
            await first.open()
            started = time.time()
            restart_pause()
            await second.open()  # a replica starting later does not move the horizon
            assert await second.claim("a", 60, signed_at=started)
            with pytest.raises(SignedBeforeStore):
                await second.claim("b", 60, signed_at=started - 2)
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())
