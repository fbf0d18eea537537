"""A bucket on SeaweedFS shaped like a subnet's after a few upload cycles, and a published list.

Every generation of object the bucket holds is there: today's job folders with several
snapshots (distinct LastModified: a second apart), an unlisted job, a deregistered
hotkey, seed-era folders, loose objects and on-demand answers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.db import Database
from app.desirability import repository
from tests.conftest import S3Server, Subnet
from tests.signing import key

LISTED_JOBS = ("job-a", "job-b")
# Newest snapshots get the names that sort first: the newest file is found by time.
ROUND_NAMES = ("c.parquet", "b.parquet", "a.parquet")


@dataclass
class Layout:
    """The keys put in the bucket, by what a pass with graces 0 must do with them."""

    superseded: set[str] = field(default_factory=set)
    unlisted: set[str] = field(default_factory=set)
    deregistered: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def everything(self) -> set[str]:
        return self.superseded | self.unlisted | self.deregistered | self.kept

    def bytes_of(self, keys: set[str]) -> int:
        return sum(self.sizes[k] for k in keys)


def put(seaweed: S3Server, bucket: str, layout: Layout, key: str, group: set[str]) -> None:
    body = (key * 3).encode()[: 40 + len(key)]
    seaweed.client.put_object(Bucket=bucket, Key=key, Body=body)
    layout.sizes[key] = len(body)
    group.add(key)


@pytest.fixture
def gone_hotkey() -> str:
    return key("gone-hot").ss58_address


@pytest.fixture
def layout(seaweed: S3Server, bucket: str, subnet: Subnet, gone_hotkey: str) -> Layout:
    miner = subnet.miner.hotkey.ss58_address
    other = subnet.other_miner.hotkey.ss58_address
    done = Layout()
    for round_number, name in enumerate(ROUND_NAMES):
        if round_number:
            time.sleep(1.1)  # S3 keeps LastModified in whole seconds
        last = round_number == len(ROUND_NAMES) - 1
        newest_or = done.kept if last else done.superseded
        put(seaweed, bucket, done, f"data/hotkey={miner}/job_id=job-a/{name}", newest_or)
        put(seaweed, bucket, done, f"data/hotkey={other}/job_id=job-a/{name}", newest_or)
        put(seaweed, bucket, done, f"data/hotkey={miner}/job_id=old-job/{name}", done.unlisted)
        put(
            seaweed,
            bucket,
            done,
            f"data/hotkey={gone_hotkey}/job_id=job-a/{name}",
            done.deregistered,
        )
    put(seaweed, bucket, done, f"data/hotkey={miner}/job_id=job-b/only.parquet", done.kept)
    put(seaweed, bucket, done, f"data/hotkey={miner}/job_id=job-a/deeper/x.parquet", done.kept)
    put(seaweed, bucket, done, f"data/hotkey={miner}/hotkey-era-file.parquet", done.kept)
    put(seaweed, bucket, done, f"data/hotkey={gone_hotkey}/loose.bin", done.deregistered)
    coldkey = subnet.miner.coldkey.ss58_address
    put(seaweed, bucket, done, f"data/x/{coldkey}/seed-era.parquet", done.kept)
    put(seaweed, bucket, done, f"data/reddit/{gone_hotkey}/seed-era.parquet", done.kept)
    put(seaweed, bucket, done, "data/hotkey=stray-object", done.kept)
    put(seaweed, bucket, done, "elsewhere/notes.txt", done.kept)
    answer = f"on-demand-jobs/date=2026-01-01/hour=03/job_id=1234/{miner}.json"
    put(seaweed, bucket, done, answer, done.kept)
    return done


def publish_list(database_url: str, job_ids: tuple[str, ...] = LISTED_JOBS) -> None:
    async def publish() -> None:
        db = Database(database_url)
        try:
            async with db.session() as session:
                entries = [{"id": job_id, "platform": "x", "weight": 1.0} for job_id in job_ids]
                await repository.publish(session, entries, datetime.now(UTC))
        finally:
            await db.close()

    asyncio.run(publish())


Run = Callable[..., tuple[int, Any, str]]


@pytest.fixture
def reap_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    seaweed: S3Server,
    bucket: str,
    metagraph_file: Path,
    database_url: str,
) -> Callable[..., None]:
    """Points `s3auth` at the test bucket, database and metagraph; graces given as keywords."""
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    base = {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": seaweed.endpoint_url,
        "AWS_ACCESS_KEY_ID": seaweed.credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": seaweed.credentials.secret_key,
        "DATABASE_URL": database_url,
        "METAGRAPH_FILE": str(metagraph_file),
    }
    for name, value in base.items():
        monkeypatch.setenv(name, value)

    def graces(seconds: float | None = None) -> None:
        for name in ("SUPERSEDED", "UNLISTED", "DEREGISTERED"):
            variable = f"REAP_{name}_AFTER_SECONDS"
            if seconds is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, str(seconds))

    return graces


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    from app.cli import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    parsed = json.loads(out) if "--json" in args and code == 0 else out
    return code, parsed, err
