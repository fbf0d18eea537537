"""A redis-server of the bench's own, and how many commands a measured run cost it."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from app.seaweed import free_ports

# Commands a client sends that run a script; INFO commandstats also counts, under their
# own names, the commands those scripts run.
SCRIPT_CALLS = ("evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro")


class BenchRedis:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("bench: redis-server is not installed (apt-get install redis-server)")
        self.port = free_ports(1)[0]
        workdir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._client = redis.Redis(port=self.port, socket_timeout=5)
        deadline = time.monotonic() + 10
        while True:
            try:
                self._client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.close()
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command_calls(self) -> dict[str, int]:
        stats = self._client.info("commandstats")
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}

    def close(self) -> None:
        self._client.close()
        self._process.terminate()
        self._process.wait(timeout=10)

    def __enter__(self) -> BenchRedis:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def commands_per_request(
    before: dict[str, int], after: dict[str, int], requests: int
) -> dict[str, float]:
    """Commands sent (round trips' worth) and commands run inside scripts, per request."""
    delta = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    delta.pop("info", None)  # this module's own reading
    sent = sum(delta.get(name, 0) for name in SCRIPT_CALLS)
    others = sum(delta.values()) - sent
    per = max(1, requests)
    return {"sent": round(sent / per, 2), "inside_scripts": round(others / per, 2)}
