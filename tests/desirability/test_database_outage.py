"""With the database down, lists are still served from memory; writes are 503, then recover."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.desirability.conftest import ADMIN_KEY, VALIDATOR_PATH, entry, publish, signed_get
from tests.tcp_proxy import TcpProxy


class ProxyThread:
    """A TcpProxy on an event loop of its own, so the app's loop can be cut off from it."""

    def __init__(self, host: str, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = TcpProxy(host, port)

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def close(self) -> None:
        self.run(self.proxy.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def proxy(postgres_database: str) -> Iterator[ProxyThread]:
    parts = urlsplit(postgres_database)
    proxy = ProxyThread(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxy.run(proxy.proxy.start())
    try:
        yield proxy
    finally:
        proxy.close()


def test_database_down_serves_the_list_and_refuses_writes_with_503(
    make_settings: SettingsFactory, postgres_database: str, proxy: ProxyThread, subnet: Subnet
) -> None:
    parts = urlsplit(postgres_database)
    url = postgres_database.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.proxy.port}")
    settings = make_settings(
        database_url=url, admin_api_keys=ADMIN_KEY, trusted_validators=str(subnet.validator.uid)
    )
    with TestClient(create_app(settings)) as client:
        version = publish(client, [entry()]).json()["version"]
        proxy.run(proxy.proxy.stop())

        read = signed_get(client, subnet.validator.hotkey, VALIDATOR_PATH)
        assert read.status_code == 200 and read.json()["version"] == version
        refused = publish(client, [entry(weight=5.0)])
        assert (refused.status_code, refused.json()["code"]) == (503, "database_unavailable")
        scores = signed_get(client, subnet.validator.hotkey, "/s3-validation/results")
        assert (scores.status_code, scores.json()["code"]) == (503, "database_unavailable")

        proxy.run(proxy.proxy.start())
        assert publish(client, [entry(weight=5.0)]).status_code == 200
