"""With Redis, a signed request costs two commands: the per-IP count, then one script."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from fastapi.testclient import TestClient

from app.main import create_app
from app.redis_store import _HORIZON_LUA
from tests.conftest import SettingsFactory, Subnet
from tests.redis_server import RedisServer
from tests.signing import compact, tao_headers

GRANT = "/get-folder-access"
POLL = "/on-demand/miner/jobs/active"
REQUESTS = 20


class Monitor:
    """Every command clients send to a Redis, apart from those its scripts run."""

    def __init__(self, server: RedisServer) -> None:
        self.commands: list[tuple[str, ...]] = []
        # No read timeout: MONITOR is silent while the app starts, which may take seconds.
        self._client = redis.Redis(port=server.port)
        self._monitor = self._client.monitor()
        self._monitor.__enter__()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for entry in self._monitor.listen():
                if entry.get("client_type") != "lua":
                    self.commands.append(tuple(entry["command"].split()))
        except (redis.ConnectionError, ValueError, AttributeError):
            return

    def settle(self, server: RedisServer) -> None:
        """Waits until MONITOR has passed on everything sent before now."""
        marker = f"settled-{time.monotonic_ns()}"
        with server.client() as client:
            client.echo(marker)
        deadline = time.monotonic() + 30
        while not any(marker in " ".join(c) for c in self.commands):
            assert time.monotonic() < deadline, "MONITOR fell silent"
            time.sleep(0.02)
        self.commands = [c for c in self.commands if c[0].strip('"').upper() != "ECHO"]

    def close(self) -> None:
        with contextlib.suppress(redis.RedisError, OSError):
            self._monitor.__exit__(None, None, None)
        self._client.close()
        self._thread.join(timeout=5)


@pytest.fixture
def monitored(redis_server: RedisServer) -> Iterator[tuple[RedisServer, Monitor]]:
    monitor = Monitor(redis_server)
    yield redis_server, monitor
    monitor.close()


def request_commands(monitor: Monitor) -> Counter[str]:
    """Commands by name, leaving out the once-a-second horizon check and script loads."""
    horizon_sha = redis.Redis().register_script(_HORIZON_LUA).sha
    names: Counter[str] = Counter()
    for command in monitor.commands:
        name = command[0].strip('"').upper()
        if name == "EVALSHA" and command[1].strip('"') == horizon_sha:
            continue
        if name in ("SCRIPT", "PING", "CLIENT", "HELLO", "SELECT", "INFO", "ECHO"):
            continue
        names[name] += 1
    return names


@pytest.mark.parametrize("path", [GRANT, POLL])
def test_a_signed_request_makes_two_redis_commands(
    make_settings: SettingsFactory,
    subnet: Subnet,
    monitored: tuple[RedisServer, Monitor],
    path: str,
) -> None:
    server, monitor = monitored
    settings = make_settings(
        rate_limit_storage=server.url,
        rate_limit_ip="100000/minute",
        rate_limit_miner="100000/hour",
        rate_limit_ondemand_poll="100000/minute",
    )
    body = {"coldkey": subnet.miner.coldkey.ss58_address}
    if path == POLL:
        body = {"since": datetime.now(UTC).isoformat()}

    def send() -> None:
        raw = compact(body)
        answer = client.post(path, content=raw, headers=tao_headers(subnet.miner.hotkey, raw))
        assert answer.status_code == 200, answer.text

    with TestClient(create_app(settings)) as client:
        send()  # the scripts loaded (NOSCRIPT, SCRIPT LOAD) once, as in service
        monitor.settle(server)
        monitor.commands.clear()
        for _ in range(REQUESTS):
            send()
        monitor.settle(server)

    names = request_commands(monitor)
    assert names == Counter({"EVALSHA": 2 * REQUESTS})
