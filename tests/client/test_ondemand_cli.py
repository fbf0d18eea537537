"""`s3auth ondemand`: a customer creates a job, a miner answers it, the customer downloads it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.main import create_app
from config import Settings
from tests.client.conftest import LiveServer
from tests.client.test_miner_upload import run_cli
from tests.conftest import Subnet

KEY = "cli-customer-key"


@pytest.fixture(scope="module")
def ondemand_url(
    client_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    database = tmp_path_factory.mktemp("ondemand-cli") / "s3auth.sqlite3"
    settings = client_settings.model_copy(
        update={
            "constellation_api_keys": (SecretStr(KEY),),
            "database_url": f"sqlite+aiosqlite:///{database}",
        }
    )
    server = LiveServer(create_app(settings)).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_job_created_answered_and_downloaded(
    ondemand_url: str, subnet: Subnet, tmp_path: Path
) -> None:
    created = run_cli(
        "ondemand", "create", "--platform", "x", "--keyword", "#bittensor",
        "--url", ondemand_url, "--api-key", KEY,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    job_id = created.stdout.strip()
    assert str(uuid.UUID(job_id)) == job_id

    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"data_entities": [{"uri": "https://x.com/a/status/1"}]}))
    answered = run_cli(
        "ondemand", "answer", job_id, str(answer), "--hotkey-uri", "//miner-hot",
        "--url", ondemand_url,
    )  # fmt: skip
    assert answered.returncode == 0, answered.stderr

    shown = run_cli(
        "ondemand", "show", job_id, "--out", str(tmp_path / "out"),
        "--url", ondemand_url, "--api-key", KEY,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "1 submissions, 1 answers" in shown.stdout
    assert f"{subnet.miner.hotkey.ss58_address}  incentive 0.200000  " in shown.stdout
    downloaded = tmp_path / "out" / job_id / f"{subnet.miner.hotkey.ss58_address}.json"
    assert downloaded.read_bytes() == answer.read_bytes()


def test_wrong_api_key_exits_2_with_the_reason(ondemand_url: str) -> None:
    refused = run_cli(
        "ondemand", "create", "--platform", "x", "--keyword", "a",
        "--url", ondemand_url, "--api-key", "wrong",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "invalid_api_key" in refused.stderr


def test_second_answer_to_a_job_exits_2_already_submitted(
    ondemand_url: str, tmp_path: Path
) -> None:
    created = run_cli(
        "ondemand", "create", "--platform", "reddit", "--subreddit", "r/ai",
        "--url", ondemand_url, "--api-key", KEY,
    )  # fmt: skip
    job_id = created.stdout.strip()
    answer = tmp_path / "answer.json"
    answer.write_text('{"data_entities": []}')
    args = ("ondemand", "answer", job_id, str(answer), "--hotkey-uri", "//other-hot")
    assert run_cli(*args, "--url", ondemand_url).returncode == 0
    again = run_cli(*args, "--url", ondemand_url)
    assert again.returncode == 2
    assert "already_submitted" in again.stderr
