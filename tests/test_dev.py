"""`s3auth dev` brings up S3, a metagraph and the API, and its printed example works."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from app.seaweed import free_ports


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("dev")
    port = free_ports(1)[0]
    log = data_dir / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "dev",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while "Uvicorn running" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base, log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, log.read_text()
    assert "s3auth dev: stopped" in log.read_text()
    weed = subprocess.run(["pgrep", "-f", str(data_dir)], capture_output=True, text=True)
    assert weed.stdout.strip() == "", "SeaweedFS outlived s3auth dev"


def test_dev_serves_docs_and_health(dev_stack: tuple[str, Path]) -> None:
    base, _ = dev_stack

    assert httpx2.get(f"{base}/docs", timeout=10).status_code == 200
    health = httpx2.get(f"{base}/healthcheck", timeout=10).json()
    assert health["status"] == "ok"
    assert health["metagraph"]["neurons"] == 4


def test_printed_example_gets_a_grant_that_uploads(dev_stack: tuple[str, Path]) -> None:
    _, log = dev_stack
    output = log.read_text()
    start = output.index("Or sign a fresh request each time:\n") + len(
        "Or sign a fresh request each time:\n"
    )
    script = output[start : output.index("\nEOF", start) + len("\nEOF")]

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    grant = json.loads(result.stdout)
    form = {**grant["fields"], "key": grant["folder"] + "hello.bin"}
    upload = httpx2.post(grant["url"], data=form, files={"file": ("f", b"x" * 2048)}, timeout=30)
    assert upload.status_code == 204
    listing = httpx2.get(grant["list_url"], timeout=30)
    assert "hello.bin" in listing.text


def test_dev_serves_a_dd_list_and_prints_a_working_publish_command(
    dev_stack: tuple[str, Path], tmp_path: Path
) -> None:
    from bittensor.sp_core import Keypair

    from tests.signing import tao_headers

    base, log = dev_stack
    validator = Keypair.create_from_uri("//dev-validator")
    path = "/dynamic-desirability/validator/get-latest-list"
    served = httpx2.get(base + path, headers=tao_headers(validator, b""), timeout=10)
    assert served.status_code == 200, served.text
    assert {e["id"] for e in served.json()["entries"]} >= {"dev-x-bittensor"}

    line = next(x for x in log.read_text().splitlines() if "s3auth dd publish FILE" in x)
    key = line.split("--api-key ", 1)[1].strip()
    new_list = {"entries": [{"id": "fresh", "platform": "x", "weight": 1.0, "label": "#new"}]}
    published = httpx2.put(
        base + "/dynamic-desirability/list", json=new_list, headers={"X-API-Key": key}, timeout=10
    )
    assert published.status_code == 200, published.text
    assert published.json()["version"] > served.json()["version"]


def test_printed_customer_key_creates_jobs_and_seeded_jobs_answer(
    dev_stack: tuple[str, Path],
) -> None:
    from datetime import UTC, datetime, timedelta

    from app.dev import dev_keys
    from tests.signing import compact, tao_headers

    base, log = dev_stack
    output = log.read_text()
    customer_key = output.split("customer key", 1)[1].split()[0]
    created = httpx2.post(
        f"{base}/on-demand/constellation/jobs",
        json={"job": {"job": {"platform": "x", "keywords": ["#bittensor"]}}},
        headers={"X-API-Key": customer_key},
        timeout=10,
    )
    assert created.status_code == 201, created.text

    miner, validator = dev_keys()[0], dev_keys()[-1]
    now = datetime.now(UTC)
    poll = compact({"since": (now - timedelta(minutes=2)).isoformat()})
    active = httpx2.post(
        f"{base}/on-demand/miner/jobs/active",
        content=poll,
        headers=tao_headers(miner.hotkey, poll),
        timeout=10,
    )
    ids = [job["id"] for job in active.json()["jobs"]]
    assert created.json()["job_id"] in ids
    assert len(ids) >= 3  # two seeded open jobs and the new one

    review = compact(
        {
            "miner_hotkey": miner.hotkey.ss58_address,
            "expired_since": (now - timedelta(hours=3)).isoformat(),
            "expired_until": now.isoformat(),
        }
    )
    answered = httpx2.post(
        f"{base}/on-demand/validator/miner-jobs",
        content=review,
        headers=tao_headers(validator.hotkey, review),
        timeout=10,
    )
    assert answered.status_code == 200, answered.text
    [entry] = answered.json()["jobs"]
    assert entry["submission"]["s3_content_length"] > 0
    body = httpx2.get(entry["submission"]["s3_presigned_url"], timeout=10)
    assert body.status_code == 200
    assert "data_entities" in body.json()


def run_dev_command(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "dev", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_busy_port_is_refused_before_anything_is_printed(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_dev_command("--port", str(port), "--data-dir", str(tmp_path / "dev"))

    assert result.returncode == 2
    assert result.stdout == ""
    assert f"port {port} on 127.0.0.1 is not available" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "dev" / "seaweedfs").exists()


def test_dev_port_comes_from_s3auth_dev_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_dev_command(
            "--data-dir", str(tmp_path / "dev"), env={"S3AUTH_DEV_PORT": str(port)}
        )

    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1" in result.stderr


def test_malformed_s3auth_dev_port_is_named(tmp_path: Path) -> None:
    result = run_dev_command("--data-dir", str(tmp_path), env={"S3AUTH_DEV_PORT": "eighty"})

    assert result.returncode == 2
    assert "S3AUTH_DEV_PORT='eighty' is not a port number" in result.stderr


def test_second_dev_on_the_same_folder_is_refused_with_a_clear_message(
    dev_stack: tuple[str, Path],
) -> None:
    _, log = dev_stack
    data_dir = log.parent

    result = run_dev_command("--port", str(free_ports(1)[0]), "--data-dir", str(data_dir))

    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{data_dir} is in use by another `s3auth dev`" in result.stderr
    assert "Traceback" not in result.stderr
    # The running stack is untouched.
    assert httpx2.get(f"{dev_stack[0]}/livez", timeout=10).status_code == 200


def test_printed_ondemand_commands_create_answer_and_show_a_job(
    dev_stack: tuple[str, Path], tmp_path: Path
) -> None:
    _, log = dev_stack
    lines = log.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  create a job"))
    end = next(i for i, line in enumerate(lines) if line.startswith("  as validator"))
    # Each line is a 17-character label column, then shell.
    script = "\n".join(line[17:] for line in lines[start:end])

    result = subprocess.run(
        [
            "bash",
            "-ec",
            f"cd {tmp_path}\n{script}".replace(".venv/bin/", f"{Path.cwd()}/.venv/bin/"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "1 submissions, 1 answers" in result.stdout
