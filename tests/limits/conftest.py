"""Fixtures for limits and shared stores: a clean shared Redis, a Redis that can be stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.redis_server import RedisServer


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[str]:
    """The session's Redis, emptied so counters and used nonces of other tests do not count."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield redis_url
    finally:
        client.close()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, which the test may stop and start again on its port."""
    try:
        server = RedisServer(tmp_path)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()
