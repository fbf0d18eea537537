"""The service reaps by itself, reports it in /metrics and /healthcheck, and survives S3 failing."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from fastapi.testclient import TestClient

from app.db import Database
from app.housekeeping import bucket as bucket_module
from app.housekeeping.bucket import Bucket, StorageFailed
from app.housekeeping.classes import Graces
from app.housekeeping.reaper import PassReport, Reaper
from app.main import create_app
from app.metagraph import MetagraphCache
from app.metagraph.sources import FileSource
from app.storage.calls import StorageCalls
from tests.conftest import S3Server, SettingsFactory
from tests.housekeeping.conftest import Layout, publish_list
from tests.tcp_proxy import ThreadedProxy

WAIT_SECONDS = 60.0


def app_settings(
    make_settings: SettingsFactory, seaweed: S3Server, bucket: str, **extra: Any
) -> Any:
    return make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        **extra,
    )


def wait_for_pass(client: TestClient) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get("/healthcheck").json()["housekeeping"]
        if state["last_pass"] is not None or state["last_error"]:
            return state
        time.sleep(0.2)
    raise AssertionError("no housekeeping pass was reported")


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, name
    return float(found.group(1))


def test_the_service_reaps_at_start_and_reports_it_in_healthcheck_and_metrics(
    make_settings: SettingsFactory, seaweed: S3Server, bucket: str, layout: Layout,
    database_url: str,
) -> None:  # fmt: skip
    publish_list(database_url)
    graces = {f"reap_{c}_after_seconds": 0 for c in ("superseded", "unlisted", "deregistered")}
    settings = app_settings(
        make_settings,
        seaweed,
        bucket,
        database_url=database_url,
        reap_interval_seconds=3600,
        **graces,
    )
    with TestClient(create_app(settings)) as client:
        state = wait_for_pass(client)
        assert state["last_error"] is None and state["interval_seconds"] == 3600
        assert state["last_pass"]["deleted"] == {
            "superseded": len(layout.superseded),
            "unlisted": len(layout.unlisted),
            "deregistered": len(layout.deregistered),
        }
        assert set(seaweed.keys(bucket)) == layout.kept
        text = client.get("/metrics").text
        superseded = 's3auth_reaped_objects_total{reason="superseded"}'
        assert metric(text, superseded) == len(layout.superseded)
        removed = layout.bytes_of(layout.deregistered)
        assert metric(text, 's3auth_reaped_bytes_total{reason="deregistered"}') == removed
        assert metric(text, 's3auth_reap_skipped_total{reason="unlisted"}') == 0
        assert metric(text, "s3auth_reap_last_success_timestamp_seconds") > 0
        assert metric(text, "s3auth_reap_interval_seconds") == 3600


def test_interval_zero_never_reaps(
    make_settings: SettingsFactory, seaweed: S3Server, bucket: str, layout: Layout,
    sqlite_database_url: str,
) -> None:  # fmt: skip
    publish_list(sqlite_database_url)
    settings = app_settings(
        make_settings, seaweed, bucket, reap_interval_seconds=0, reap_superseded_after_seconds=0
    )
    with TestClient(create_app(settings)) as client:
        state = client.get("/healthcheck").json()["housekeeping"]
        assert state["interval_seconds"] == 0 and state["last_pass"] is None
    assert set(seaweed.keys(bucket)) == layout.everything


@pytest.fixture
def proxy(seaweed: S3Server) -> Iterator[ThreadedProxy]:
    port = int(seaweed.endpoint_url.rsplit(":", 1)[1])
    proxied = ThreadedProxy("127.0.0.1", port)
    proxied.start()
    try:
        yield proxied
    finally:
        proxied.close()


def test_s3_failing_mid_pass_stops_it_without_damage_and_the_next_pass_resumes(
    seaweed: S3Server, bucket: str, layout: Layout, database_url: str, metagraph_file: Path,
    proxy: ThreadedProxy, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    publish_list(database_url)
    # Small pages and batches: folders are decided and deleted while the walk goes on.
    monkeypatch.setattr(bucket_module, "PAGE_KEYS", 3)
    monkeypatch.setattr(bucket_module, "DELETE_BATCH", 2)
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{proxy.port}",
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=2
        ),
    )

    def cut_after_two_folders(report: PassReport) -> None:
        if report.folders == 2:
            proxy.stop()

    async def two_passes() -> tuple[BaseException | None, set[str], PassReport]:
        cache = MetagraphCache(FileSource(metagraph_file), refresh_seconds=60, max_age_seconds=60)
        await cache.refresh()
        storage = StorageCalls()
        db = Database(database_url)
        try:
            reaper = Reaper(Bucket(s3, bucket, storage), db, cache, Graces(0, 0, 0))
            failure = None
            try:
                await reaper.run(now=datetime.now(UTC), progress=cut_after_two_folders)
            except StorageFailed as exc:
                failure = exc
            assert reaper.tallies.last_error and reaper.tallies.last_success is None
            after_failure = set(seaweed.keys(bucket))
            proxy.start()
            return failure, after_failure, await reaper.run(now=datetime.now(UTC))
        finally:
            storage.close()
            await db.close()
            await cache.stop()

    failure, after_failure, second = asyncio.run(two_passes())
    s3.close()
    assert isinstance(failure, StorageFailed)
    assert layout.kept <= after_failure  # nothing outside the classes went
    assert after_failure != layout.kept  # the pass did stop before the end
    assert set(seaweed.keys(bucket)) == layout.kept
    assert sum(second.deleted.values()) == len(after_failure - layout.kept)
