"""`s3auth serve --workers N` hands workers their settings without secrets in the environment."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from app.processes import stop_process_group
from app.seaweed import free_ports
from tests.conftest import Subnet
from tests.serving.conftest import service_env


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> dict[str, object]:
    for _ in range(300):
        assert process.poll() is None, "s3auth serve exited"
        try:
            with urllib.request.urlopen(url + "/healthcheck", timeout=2) as answer:
                return json.load(answer)
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.2)
    raise TimeoutError("s3auth serve did not answer /healthcheck")


def test_workers_environment_holds_no_secret(tmp_path: Path, subnet: Subnet) -> None:
    metagraph = tmp_path / "metagraph.json"
    metagraph.write_text(json.dumps(subnet.metagraph()))
    aws_secret, admin_key = secrets.token_hex(16), secrets.token_hex(16)
    port = free_ports(1)[0]
    env = {
        **os.environ,
        **service_env(metagraph, AWS_SECRET_ACCESS_KEY=aws_secret, ADMIN_API_KEYS=admin_key),
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        health = wait_healthy(f"http://127.0.0.1:{port}", process)
        workers = children(process.pid)
        environments = {pid: Path(f"/proc/{pid}/environ").read_bytes() for pid in workers}
        settings_files = [
            v.split(b"=", 1)[1] for e in environments.values() for v in e.split(b"\0")
            if v.startswith(b"S3AUTH_SETTINGS_FILE=")
        ]  # fmt: skip
        mode = os.stat(settings_files[0]).st_mode & 0o777
    finally:
        stop_process_group(process, signal.SIGTERM, grace_seconds=20)

    assert health["bucket"] == "serve-test"  # the workers did get their settings
    assert len(workers) >= 2
    for environment in environments.values():
        assert aws_secret.encode() not in environment
        assert admin_key.encode() not in environment
    assert mode == 0o600
    assert not Path(settings_files[0].decode()).exists()
