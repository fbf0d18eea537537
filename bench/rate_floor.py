"""What the framework alone costs at a given request rate, for the subnet hour's figures.

The worker's CPU per request depends on the rate, not only on the route: a request that
wakes an idle worker costs several times one that arrives while it is busy (on the 2-core
VM, `GET /livez` measured about 130 µs back to back and 450 µs at 100 requests/s). So the
subnet hour is read against `GET /livez` sent one request at a time at the hour's own
average rate, plus what an idle worker burns: no route can cost less. Beside it, the
barest Python server with the one Redis round trip a signed request needs
(`bench.bare_server`), at the same rate: what no implementation in Python goes below.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from app.processes import stop_process_group
from app.seaweed import free_ports
from bench.builds import REPO
from bench.server import process_cpu_seconds

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


@contextlib.contextmanager
def bare_server(redis_port: int, startup_seconds: float = 10.0) -> Iterator[tuple[int, int]]:
    """`bench.bare_server` in a process of its own: (its port, its pid), until the block ends."""
    port = free_ports(1)[0]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_server", str(port), str(redis_port)],
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bench.bare_server did not start") from None
                time.sleep(0.05)
        yield port, process.pid
    finally:
        stop_process_group(process, signal.SIGTERM, grace_seconds=5)


def bare_cpu_us(redis_port: int, rate: float | None, seconds: float) -> float:
    """CPU µs per request of `bench.bare_server`, sent one at a time at `rate`."""
    with bare_server(redis_port) as (port, pid):
        return livez_cpu_us(port, lambda: process_cpu_seconds(pid), rate, seconds, 0.0)


def measure(
    port: int,
    cpu: CpuClock,
    rate: float,
    requests_per_hour: int,
    compress: float,
    *,
    redis_port: int | None = None,
) -> dict[str, Any]:
    """The floor of the hour's CPU: the idle share over its real seconds, plus `/livez`
    at the hour's rate times its requests; with `redis_port`, the bare server's too."""
    idle = idle_share(cpu, 5.0)
    at_rate = livez_cpu_us(port, cpu, rate, 10.0, idle)
    back_to_back = livez_cpu_us(port, cpu, None, 3.0, idle)
    real_seconds = 3600 / compress
    figures: dict[str, Any] = {
        "rate_per_second": round(rate, 1),
        "idle_core_percent": round(idle * 100, 2),
        "livez_cpu_us_at_rate": round(at_rate),
        "livez_cpu_us_back_to_back": round(back_to_back),
        "floor_cpu_seconds_per_simulated_hour": round(
            idle * real_seconds + at_rate * requests_per_hour / 1e6, 1
        ),
    }
    if redis_port is not None:
        bare = bare_cpu_us(redis_port, rate, 10.0)
        figures["bare_cpu_us_at_rate"] = round(bare)
        figures["bare_cpu_us_back_to_back"] = round(bare_cpu_us(redis_port, None, 3.0))
        figures["bare_cpu_seconds_per_simulated_hour"] = round(bare * requests_per_hour / 1e6, 1)
    return figures
