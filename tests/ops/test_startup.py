"""`s3auth serve` without its database ends in a few lines with exit 3; /metrics' token;
the warning for several workers counting metrics alone."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import serve
from app.main import create_app
from app.ops.startup import STARTUP_FAILURE
from tests.conftest import SettingsFactory
from tests.database import ADMIN_URL, postgres_unreachable

ROOT = Path(__file__).resolve().parents[2]


def run_serve(tmp_path: Path, metagraph_file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("S3_", "DATABASE", "LOG"))},
        "METAGRAPH_FILE": str(metagraph_file),
        "PORT": "1",  # never reached: the start stops before listening
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())", "serve"],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def missing_database() -> str:
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    host = ADMIN_URL.split("@", 1)[1].split("/", 1)[0]
    return f"postgresql+asyncpg://postgres:pw-{secrets.token_hex(4)}@{host}/nope_{secrets.token_hex(4)}"


def test_missing_database_ends_serve_in_five_lines_with_exit_3(
    tmp_path: Path, metagraph_file: Path, missing_database: str
) -> None:
    done = run_serve(tmp_path, metagraph_file, DATABASE_URL=missing_database)

    lines = done.stderr.strip().splitlines()
    assert done.returncode == STARTUP_FAILURE, done.stderr
    assert 1 <= len(lines) <= 5, done.stderr
    assert "database" in lines[0] and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
    password = missing_database.split(":")[2].split("@")[0]
    assert password not in done.stderr and done.stdout == ""


def test_debug_level_adds_the_traceback(
    tmp_path: Path, metagraph_file: Path, missing_database: str
) -> None:
    done = run_serve(tmp_path, metagraph_file, DATABASE_URL=missing_database, LOG_LEVEL="debug")

    assert done.returncode == STARTUP_FAILURE
    assert "Traceback" in done.stderr


def test_metrics_need_the_bearer_token_when_one_is_set(make_settings: SettingsFactory) -> None:
    token = secrets.token_hex(16)
    with TestClient(create_app(make_settings(metrics_token=token))) as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": f"Bearer {token}x"})
        right = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["code"] == "invalid_metrics_token"
    assert right.status_code == 200 and "s3auth_http_requests" in right.text


def test_metrics_are_open_without_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200


def test_several_workers_without_a_multiprocess_directory_warn(
    make_settings: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(serve.uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv(serve.SETTINGS_FILE_ENV, "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    settings = make_settings(rate_limit_storage="redis://127.0.0.1:6399/0")
    with caplog.at_level(logging.WARNING, logger="app.serve"):
        serve.serve(settings, workers=3)

    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "PROMETHEUS_MULTIPROC_DIR" in warning and "3 workers" in warning
