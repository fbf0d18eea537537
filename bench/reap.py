"""The reap scenario: how fast a housekeeping pass walks the bucket, and what memory it holds.

Buckets of today's layout (hotkeys x jobs x snapshots, one small parquet-named object per
snapshot, a second apart in name only) on the bench's SeaweedFS, a list of the jobs and
a metagraph of the hotkeys. Each pass runs in a child process of its own
(`python -m bench.reap`), as `s3auth storage reap` does, so its peak RSS is the pass's.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from app.dev import create_bucket
from app.seaweed import S3Credentials
from bench.subnet import Neuron, write_metagraph

HOTKEYS = 20
JOBS = 10
RATE_OBJECTS = 20_000
MEMORY_OBJECTS = (10_000, 100_000)
PUT_THREADS = 32


def _client(endpoint_url: str, credentials: S3Credentials) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        region_name="us-east-1",
        config=Config(max_pool_connections=PUT_THREADS, s3={"addressing_style": "path"}),
    )


def fill_bucket(
    endpoint_url: str, credentials: S3Credentials, bucket: str, hotkeys: list[str], objects: int
) -> None:
    """`objects` snapshots spread evenly over hotkeys x JOBS job folders."""
    create_bucket(endpoint_url, credentials, bucket)
    client = _client(endpoint_url, credentials)
    folders = [(hk, f"job-{j}") for hk in hotkeys for j in range(JOBS)]

    def key(i: int) -> str:
        hotkey, job = folders[i % len(folders)]
        snapshot = i // len(folders)
        return (
            f"data/hotkey={hotkey}/job_id={job}/data_20261201_{snapshot:06d}_100_{i:016x}.parquet"
        )

    try:
        with ThreadPoolExecutor(PUT_THREADS) as pool:
            body = b"p" * 64
            list(
                pool.map(
                    lambda i: client.put_object(Bucket=bucket, Key=key(i), Body=body),
                    range(objects),
                )
            )
    finally:
        client.close()


def publish_jobs(database_url: str) -> None:
    from app.db import Database
    from app.db.migrate import upgrade
    from app.desirability import repository

    async def publish() -> None:
        db = Database(database_url)
        try:
            await upgrade(db)
            async with db.session() as session:
                entries = [{"id": f"job-{j}", "platform": "x", "weight": 1.0} for j in range(JOBS)]
                await repository.publish(session, entries, datetime.now(UTC))
        finally:
            await db.close()

    asyncio.run(publish())


def run_pass(env: dict[str, str], bucket: str, *, dry_run: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.reap", bucket] + (["--dry-run"] if dry_run else [])
    done = subprocess.run(
        args, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.reap failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def reap_bench(
    endpoint_url: str, credentials: S3Credentials, neurons: list[Neuron], work: Path
) -> dict[str, Any]:
    hotkeys = [n.hotkey for n in neurons[:HOTKEYS]]
    metagraph = write_metagraph(work / "reap-metagraph.json", neurons)
    database_url = f"sqlite+aiosqlite:///{work / 'reap.sqlite3'}"
    publish_jobs(database_url)
    env = {
        "S3_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "DATABASE_URL": database_url,
        "METAGRAPH_FILE": str(metagraph),
        "REAP_SUPERSEDED_AFTER_SECONDS": "0",
        "REAP_UNLISTED_AFTER_SECONDS": "0",
        "REAP_DEREGISTERED_AFTER_SECONDS": "0",
    }
    figures: dict[str, Any] = {"hotkeys": HOTKEYS, "jobs_per_hotkey": JOBS}
    for objects in MEMORY_OBJECTS:
        bucket = f"reap-{objects}"
        started = time.monotonic()
        fill_bucket(endpoint_url, credentials, bucket, hotkeys, objects)
        print(
            f"[reap] {objects:,} objects written in {time.monotonic() - started:.0f} s", flush=True
        )
        figures[f"dry_run_{objects}"] = run_pass(env, bucket, dry_run=True)
    bucket = f"reap-{RATE_OBJECTS}"
    fill_bucket(endpoint_url, credentials, bucket, hotkeys, RATE_OBJECTS)
    figures["dry_run"] = run_pass(env, bucket, dry_run=True)
    figures["pass"] = run_pass(env, bucket, dry_run=False)
    small, large = (figures[f"dry_run_{n}"]["peak_rss_mb"] for n in MEMORY_OBJECTS)
    figures["peak_rss_growth_mb"] = round(large - small, 1)
    print(describe(figures), flush=True)
    return figures


def describe(figures: dict[str, Any]) -> str:
    dry, real = figures["dry_run"], figures["pass"]
    small, large = MEMORY_OBJECTS
    small_mb = figures[f"dry_run_{small}"]["peak_rss_mb"]
    large_mb = figures[f"dry_run_{large}"]["peak_rss_mb"]
    return (
        f"[reap] {dry['scanned_objects']:,} objects: dry run {dry['objects_per_second']:,.0f} "
        f"objects scanned/s; pass {real['objects_per_second']:,.0f}/s removing "
        f"{sum(real['deleted'].values()):,}; peak RSS {small_mb} MB "
        f"at {small:,} objects, {large_mb} MB at {large:,} "
        f"(+{figures['peak_rss_growth_mb']} MB)"
    )


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _child(bucket: str, dry_run: bool) -> None:
    import app.main  # noqa: F401  (what the pass imports, loaded before measuring)
    from app.housekeeping.commands import reap_now
    from config import Settings

    settings = Settings(_env_file=None, s3_bucket=bucket)  # type: ignore[call-arg]
    before = peak_rss_mb()
    started = time.monotonic()
    report = asyncio.run(reap_now(settings, dry_run=dry_run, show_progress=False))
    seconds = time.monotonic() - started
    answer = {
        **report.to_json(),
        "seconds": round(seconds, 2),
        "objects_per_second": round(report.scanned_objects / seconds),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_pass_mb": round(before, 1),
    }
    print(json.dumps(answer))


if __name__ == "__main__":
    _child(sys.argv[1], "--dry-run" in sys.argv[2:])
