"""Stopping the child servers we start (SeaweedFS, the API under benchmark)."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_process_group(
    process: subprocess.Popen[bytes], stop_signal: signal.Signals, grace_seconds: float
) -> None:
    """Ask the process group to stop, and kill it if it has not within the grace period.

    The group, not only the leader: servers fork helpers that would otherwise outlive it.
    """
    if process.poll() is not None:
        return
    os.killpg(process.pid, stop_signal)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
