"""What the framework alone costs at a given request rate, for the subnet hour's figures.

The worker's CPU per request depends on the rate, not only on the route: a request that
wakes an idle worker costs several times one that arrives while it is busy (on the 2-core
VM, `GET /livez` measured about 130 µs back to back and 450 µs at 100 requests/s). So the
subnet hour is read against `GET /livez` sent one request at a time at the hour's own
average rate, plus what an idle worker burns: no route can cost less.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

LIVEZ = b"GET /livez HTTP/1.1\r\nHost: bench\r\n\r\n"

# The service's CPU seconds so far (bench.server.ServiceProcess.cpu_seconds).
CpuClock = Callable[[], float]


def _answer(connection: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("the service closed the connection")
        data += chunk


def idle_share(cpu: CpuClock, seconds: float) -> float:
    """Share of one core the worker uses with no request at all."""
    before = cpu()
    time.sleep(seconds)
    return (cpu() - before) / seconds


def livez_cpu_us(
    port: int, cpu: CpuClock, rate: float | None, seconds: float, idle: float
) -> float:
    """CPU µs per `GET /livez` above the idle share, one at a time (`rate` None: back to back)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        count = 0
        before = cpu()
        started = time.perf_counter()
        while (now := time.perf_counter()) - started < seconds:
            if rate:
                wait = started + count / rate - now
                if wait > 0:
                    time.sleep(wait)
            connection.sendall(LIVEZ)
            _answer(connection)
            count += 1
        wall = time.perf_counter() - started
        used = cpu() - before - idle * wall
    return max(0.0, used) / max(count, 1) * 1e6


def measure(
    port: int, cpu: CpuClock, rate: float, requests_per_hour: int, compress: float
) -> dict[str, Any]:
    """The floor of the hour's CPU: the idle share over its real seconds, plus `/livez`
    at the hour's rate times its requests."""
    idle = idle_share(cpu, 5.0)
    at_rate = livez_cpu_us(port, cpu, rate, 10.0, idle)
    back_to_back = livez_cpu_us(port, cpu, None, 3.0, idle)
    real_seconds = 3600 / compress
    return {
        "rate_per_second": round(rate, 1),
        "idle_core_percent": round(idle * 100, 2),
        "livez_cpu_us_at_rate": round(at_rate),
        "livez_cpu_us_back_to_back": round(back_to_back),
        "floor_cpu_seconds_per_simulated_hour": round(
            idle * real_seconds + at_rate * requests_per_hour / 1e6, 1
        ),
    }
