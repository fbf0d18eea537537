"""`s3auth dev` brings up S3, a metagraph and the API, and its printed example works."""

from __future__ import annotations

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

REPO = Path(__file__).resolve().parents[1]


def start_dev(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    """`s3auth dev` as a user starts it, from the repository root; waits until it serves."""
    log = data_dir / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "dev", "--port", str(port), "--data-dir", data_dir],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=REPO,
        )
    deadline = time.monotonic() + 90
    while "Uvicorn running" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(log.read_text())
        time.sleep(0.2)
    return process, log


def assert_stopped_cleanly(process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, log.read_text()
    assert "s3auth dev: stopped" in log.read_text()
    weed = subprocess.run(["pgrep", "-f", str(log.parent)], capture_output=True, text=True)
    assert weed.stdout.strip() == "", "SeaweedFS outlived s3auth dev"


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    port = free_ports(1)[0]
    process, log = start_dev(tmp_path_factory.mktemp("dev"), port)
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.send_signal(signal.SIGINT)
        assert_stopped_cleanly(process, log)


def banner_commands(output: str) -> list[str]:
    """Every command the banner prints: lines starting with the CLI, with continuations."""
    commands: list[str] = []
    lines = iter(output.splitlines())
    for line in lines:
        if line.startswith(".venv/bin/s3auth "):
            command = [line]
            while command[-1].endswith("\\"):
                command.append(next(lines))
            commands.append("\n".join(command))
        else:
            # Nothing else may look like a command: labels and notes are `#` lines.
            assert line.startswith("#") or "bin/s3auth" not in line, line
    return commands


def test_dev_serves_docs_and_health(dev_stack: tuple[str, Path]) -> None:
    base, _ = dev_stack

    assert httpx2.get(f"{base}/docs", timeout=10).status_code == 200
    health = httpx2.get(f"{base}/healthcheck", timeout=10).json()
    assert health["status"] == "ok"
    assert health["metagraph"]["neurons"] == 4


def test_every_banner_command_runs_as_printed_from_the_repository_root(
    dev_stack: tuple[str, Path], tmp_path: Path
) -> None:
    _, log = dev_stack
    commands = banner_commands(log.read_text())
    outputs = []
    for command in commands:
        result = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        outputs.append((" ".join(command.replace("\\\n", " ").split()), result.stdout))

    printed = {" ".join(command.split()[1:3]) for command, _ in outputs}
    assert {"miner upload", "validator ls", "validator get", "ondemand answer", "dd publish"} <= (
        printed
    )
    # The trusted dev validator sees the miner's per-file upload in its hotkey folder.
    listing = next(out for command, out in outputs if "ls --miner-hotkey" in command)
    assert "data_20260101_000000_100_0123456789abcdef.parquet" in listing
    # The customer reads the answer the miner just gave, outside the checkout.
    shown = next(out for command, out in outputs if "ondemand show" in command)
    assert "1 submissions, 1 answers in " + str(tmp_path / "s3auth-answers") in shown
    published = next(out for command, out in outputs if "dd publish" in command)
    assert "published" in published.lower(), published


def test_dev_serves_the_seeded_dd_list_to_the_dev_validator(dev_stack: tuple[str, Path]) -> None:
    from bittensor.sp_core import Keypair

    from tests.signing import tao_headers

    base, _ = dev_stack
    validator = Keypair.create_from_uri("//dev-validator")
    path = "/dynamic-desirability/validator/get-latest-list"
    served = httpx2.get(base + path, headers=tao_headers(validator, b""), timeout=10)
    assert served.status_code == 200, served.text
    assert {e["id"] for e in served.json()["entries"]} >= {"dev-x-bittensor"}


def test_printed_customer_key_creates_jobs_and_seeded_jobs_answer(
    dev_stack: tuple[str, Path],
) -> None:
    from datetime import UTC, datetime, timedelta

    from app.devstack.keys import dev_keys
    from tests.signing import compact, tao_headers

    base, log = dev_stack
    output = log.read_text()
    customer_key = output.split("the customer key is\n# ", 1)[1].split()[0]
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


def test_sigterm_stops_the_api_and_seaweedfs(tmp_path: Path) -> None:
    port = free_ports(1)[0]
    process, log = start_dev(tmp_path, port)

    process.send_signal(signal.SIGTERM)

    assert_stopped_cleanly(process, log)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the API's port is free again


def test_make_run_passes_port_and_data_dir_to_s3auth_dev() -> None:
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "DATA_DIR=/tmp/s3auth-dev-2"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert ".venv/bin/s3auth dev --port 8123 --data-dir /tmp/s3auth-dev-2" in result.stdout
