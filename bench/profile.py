"""Optional py-spy sampling of the worker while wrk drives it (`--profile`)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def flame_graph(pid: int, svg: Path, seconds: float, *, enabled: bool) -> Iterator[None]:
    """Samples `pid` for `seconds` into an SVG flame graph; does nothing unless `enabled`."""
    if not enabled:
        yield
        return
    svg.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--nonblocking",  # never pauses the worker, so the figures stay honest
            "--rate",
            "200",
            "--duration",
            str(max(1, int(seconds))),
            "--output",
            str(svg),
            "--pid",
            str(pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield
    finally:
        _, errors = spy.communicate()
        print(f"profile: {svg}" if spy.returncode == 0 else f"py-spy failed: {errors.strip()}")
