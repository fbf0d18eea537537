"""Key shapes and the key checks, and why a key S3 servers rewrite is never signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx2
import pytest

from app.storage.layout import (
    coldkey_folder,
    dd_file_key,
    hotkey_folder,
    is_under,
    is_valid_dd_filename,
    is_valid_job_id,
    key_problem,
    ondemand_answer_key,
)
from app.storage.presign import Presigner
from tests.conftest import S3Server

HOTKEY = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"


def test_folders_of_each_era() -> None:
    assert coldkey_folder("x", "5Cold") == "data/x/5Cold/"
    assert hotkey_folder(HOTKEY) == f"data/hotkey={HOTKEY}/"
    assert (
        dd_file_key(HOTKEY, "job-1", "f.parquet") == f"data/hotkey={HOTKEY}/job_id=job-1/f.parquet"
    )


def test_ondemand_answers_are_dated_in_utc() -> None:
    created = datetime(2026, 8, 5, 23, 30, tzinfo=timezone(timedelta(hours=-2)))

    key = ondemand_answer_key("j1", created, HOTKEY)

    assert key == f"on-demand-jobs/date=2026-08-06/hour=01/job_id=j1/{HOTKEY}.json"
    assert created.astimezone(UTC).hour == 1


@pytest.mark.parametrize(
    ("job_id", "valid"),
    [
        ("crawler-7-h4rpt", True),
        ("a.b_c", True),
        (".", False),
        ("..", False),
        ("a/b", False),
        ("a b", False),
        ("", False),
        ("x" * 128, True),
        ("x" * 129, False),
    ],
)
def test_job_ids_are_one_segment(job_id: str, valid: bool) -> None:
    assert is_valid_job_id(job_id) is valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("data_20260805_141502_152340_9f0c2a7be13d4c55.parquet", True),
        ("data_20260805_141502_152340_9F0C2A7BE13D4C55.parquet", False),
        ("data_20260805_141502_x_9f0c2a7be13d4c55.parquet", False),
        ("data_20260805_141502_1_9f0c2a7be13d4c5.parquet", False),
        ("sub/data_20260805_141502_1_9f0c2a7be13d4c55.parquet", False),
    ],
)
def test_dd_filenames_have_the_validators_shape(name: str, valid: bool) -> None:
    assert is_valid_dd_filename(name) is valid


@pytest.mark.parametrize(
    "key",
    ["data/x\\y/f", "data/./f", "data/x/../f", "data//f", "/data/f", "data/\x7f", "d" * 1025],
)
def test_keys_servers_would_rewrite_have_a_problem(key: str) -> None:
    assert key_problem(key) is not None
    assert not is_under(key, "data/")


def test_plain_keys_are_under_their_folder_only() -> None:
    folder = hotkey_folder(HOTKEY)

    assert is_under(folder + "job_id=j/f.parquet", folder)
    assert not is_under(folder, folder)
    assert not is_under("data/hotkey=5Other/f.parquet", folder)


def test_seaweedfs_reads_a_backslash_as_a_slash(seaweed: S3Server, bucket: str) -> None:
    # Why backslashes are refused: a URL signed for data/x\victim/... serves data/x/victim/...
    seaweed.client.put_object(Bucket=bucket, Key="data/x/victim/secret.bin", Body=b"secret")
    url = Presigner(seaweed.client, bucket).get_url("data/x\\victim/secret.bin", expires_in=60)

    response = httpx2.get(url, timeout=30)

    assert (response.status_code, response.content) == (200, b"secret")
