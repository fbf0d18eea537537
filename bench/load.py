"""Drives one endpoint with wrk and the signed-bodies Lua script; parses its figures."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("signed_bodies.lua")
INSTALL_HINT = (
    "wrk is not installed. Install it with `sudo apt-get install -y wrk` (Debian/Ubuntu) "
    "or `brew install wrk` (macOS), then run `make bench` again."
)
PERCENTILES = ("p50", "p75", "p90", "p95", "p99", "p99.9")


class WrkMissing(RuntimeError):
    pass


def find_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing(INSTALL_HINT)
    return found


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: dict[str, int]
    latency_us: dict[str, float]
    body_wraps: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def non_200(self) -> int:
        """Answers that were not 2xx/3xx, plus requests that got no answer at all."""
        return sum(self.errors.values())

    def ms(self, percentile: str) -> float:
        return self.latency_us[percentile] / 1000

    def to_json(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.rps, 1),
            "non_200": self.non_200,
            "errors": self.errors,
            "latency_ms": {k: round(v / 1000, 3) for k, v in self.latency_us.items()},
            "body_wraps": self.body_wraps,
        }


def run_wrk(
    url: str,
    *,
    method: str,
    bodies: Path | None,
    seconds: float,
    connections: int,
    threads: int,
    timeout_seconds: float = 5.0,
    client_ips: int = 0,
) -> LoadResult:
    """`client_ips` > 0: requests carry X-Forwarded-For from that many addresses in turn
    (the service trusts it from loopback), so per-IP limits count several clients."""
    command = [
        find_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={timeout_seconds:g}s",
        "-s",
        str(SCRIPT),
        url,
        "--",
        method,
        str(threads),
    ]
    command.append(str(bodies) if bodies is not None else "")
    command.append(str(client_ips))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            raw = json.loads(line.removeprefix("WRK_JSON "))
            return LoadResult(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                errors=raw["errors"],
                latency_us={k: float(v) for k, v in raw["latency_us"].items()},
                body_wraps=raw["body_wraps"],
            )
    raise RuntimeError(f"wrk gave no figures (exit {done.returncode}):\n{done.stdout}{done.stderr}")
