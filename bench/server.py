"""Starts `s3auth serve` (one worker) as a subprocess and watches its memory."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from types import TracebackType

from app.processes import stop_process_group

STARTUP_TIMEOUT_SECONDS = 60.0


class ServiceProcess:
    """`python -m app.cli serve` from `source_dir` (a checkout), on a loopback port."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        port: int,
        source_dir: Path,
        log_path: Path,
        workers: int = 1,
    ) -> None:
        self.env = env
        self.workers = workers
        self.port = port
        self.source_dir = source_dir
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self.started_at = 0  # unix seconds, whole, by which the service was serving

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        env = {**os.environ, **self.env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        # The checkout under test comes first, so a --compare build runs its own code.
        env["PYTHONPATH"] = str(self.source_dir)
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--workers", str(self.workers)],
            # Its own directory, so no developer's .env changes the configuration.
            cwd=self.log_path.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_healthy()
        # Rounded up: a legacy timestamp of the second it started in may predate its horizon.
        self.started_at = math.ceil(time.time())
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                # The log lives in a temporary directory: show its end now.
                tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-25:])
                raise RuntimeError(f"the service exited at start:\n{tail}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthcheck", timeout=2) as r:
                    if json.load(r).get("status") == "ok":
                        return
            except (OSError, urllib.error.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"/healthcheck was not ok within {STARTUP_TIMEOUT_SECONDS} s")

    def memory_mb(self) -> dict[str, float]:
        """Current and peak resident memory of the worker, from /proc."""
        values: dict[str, float] = {}
        status = Path(f"/proc/{self.pid}/status").read_text()
        for line in status.splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
        return {"rss_mb": values["VmRSS"], "peak_rss_mb": values["VmHWM"]}

    def _get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base_url + path, timeout=5) as answer:
            return answer.read()

    def answers(self, path: str) -> bool:
        try:
            self._get(path)
        except OSError:  # HTTPError included
            return False
        return True

    def routes(self) -> set[str]:
        """Paths in the build's OpenAPI document."""
        return set(json.loads(self._get("/openapi.json"))["paths"])

    def answers_by_status(self, route: str) -> Counter[str]:
        """The service's own count of answers on `route`, by status, from /metrics."""
        counts: Counter[str] = Counter()
        prefix = f's3auth_http_requests_total{{route="{route}",status="'
        for line in self._get("/metrics").decode().splitlines():
            if line.startswith(prefix):
                status = line[len(prefix) :].split('"', 1)[0]
                counts[status] += int(float(line.rsplit(" ", 1)[1]))
        return counts

    def cpu_seconds(self) -> float:
        """User plus system CPU time the service (its workers included) has used so far."""
        return sum(process_cpu_seconds(pid) for pid in (self.pid, *_children(self.pid)))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process, signal.SIGTERM, grace_seconds=10)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process (0 once it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a worker that exited meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
