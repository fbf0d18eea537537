"""With few file descriptors, idle sockets get a 503 at connect, not every request failing."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.processes import stop_process_group
from app.seaweed import free_ports
from tests.conftest import Subnet
from tests.serving.conftest import service_env

DESCRIPTORS = 256
IDLE_SOCKETS = 300


def limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTORS, DESCRIPTORS))


@pytest.fixture
def starved(tmp_path: Path, subnet: Subnet) -> Iterator[int]:
    """`s3auth serve` allowed 256 descriptors, MAX_CONNECTIONS left to its default."""
    metagraph = tmp_path / "metagraph.json"
    metagraph.write_text(json.dumps(subnet.metagraph()))
    port = free_ports(1)[0]
    env = {**os.environ, **service_env(metagraph, MAX_CONNECTIONS="0"), "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=limit_descriptors,
    )
    try:
        for _ in range(300):
            assert process.poll() is None, "s3auth serve exited"
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2)
                break
            time.sleep(0.2)
        yield port
    finally:
        stop_process_group(process, signal.SIGTERM, grace_seconds=20)


def livez_status(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_idle_sockets_beyond_the_descriptors_get_503_and_then_clear(starved: int) -> None:
    idle = [
        socket.create_connection(("127.0.0.1", starved), timeout=10) for _ in range(IDLE_SOCKETS)
    ]
    try:
        while_crowded = livez_status(starved)
    finally:
        for sock in idle:
            sock.close()

    assert while_crowded == 503  # an answer, not a refused or reset connection
    statuses = []
    for _ in range(50):  # the idle ones are closed by the server within its header timeout
        statuses.append(livez_status(starved))
        if statuses[-1] == 200:
            break
        time.sleep(0.2)
    assert statuses[-1] == 200
