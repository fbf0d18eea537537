"""`s3auth storage reap` and `usage` on SeaweedFS, with the list on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from app.db import Database
from app.housekeeping.bucket import Bucket
from app.housekeeping.classes import Graces
from app.housekeeping.commands import ProgressBar
from app.housekeeping.reaper import PassReport, Reaper
from app.housekeeping.turns import reaper_turn
from app.metagraph import MetagraphCache
from app.metagraph.sources import FileSource
from app.storage.calls import StorageCalls
from tests.conftest import S3Server
from tests.housekeeping.conftest import Layout, publish_list, run_cli

Env = Callable[..., None]


def without_metagraph_kept(layout: Layout) -> set[str]:
    """Without a metagraph every hotkey counts as registered: its superseded files still go."""
    superseded = {k for k in layout.deregistered if "/job_id=job-a/" in k and "/a.parquet" not in k}
    return layout.kept | (layout.deregistered - superseded)


def nothing_deleted() -> dict[str, int]:
    return {"superseded": 0, "unlisted": 0, "deregistered": 0}


def test_nothing_is_removed_inside_the_graces(
    reap_env: Env, layout: Layout, database_url: str, seaweed: S3Server, bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env()  # the defaults: 6 h, 7 days, 7 days
    publish_list(database_url)
    code, report, _ = run_cli(capsys, "storage", "reap", "--json")
    assert code == 0
    assert report["deleted"] == nothing_deleted()
    assert report["skipped"] == []
    assert set(seaweed.keys(bucket)) == layout.everything


def test_with_graces_zero_exactly_the_three_classes_are_removed(
    reap_env: Env, layout: Layout, database_url: str, seaweed: S3Server, bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env(0)
    publish_list(database_url)
    code, report, _ = run_cli(capsys, "storage", "reap", "--json")
    assert code == 0
    assert set(seaweed.keys(bucket)) == layout.kept
    removed = layout.superseded | layout.unlisted | layout.deregistered
    hotkey_objects = {k for k in layout.everything if k.startswith("data/hotkey=")}
    assert report == {
        "dry_run": False,
        "scanned_objects": len(hotkey_objects),
        "deleted": {
            "superseded": len(layout.superseded),
            "unlisted": len(layout.unlisted),
            "deregistered": len(layout.deregistered),
        },
        "deleted_bytes": layout.bytes_of(removed),
        "kept_objects": len(hotkey_objects - removed),
        "skipped": [],
    }


def test_dry_run_removes_nothing_and_reports_what_the_pass_then_removes(
    reap_env: Env, layout: Layout, database_url: str, seaweed: S3Server, bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env(0)
    publish_list(database_url)
    code, preview, _ = run_cli(capsys, "storage", "reap", "--dry-run", "--json")
    assert code == 0 and preview["dry_run"] is True
    assert set(seaweed.keys(bucket)) == layout.everything
    code, report, _ = run_cli(capsys, "storage", "reap", "--json")
    assert code == 0
    assert {**preview, "dry_run": False} == report
    assert preview["deleted"]["superseded"] == len(layout.superseded) > 0


def test_a_second_pass_removes_nothing(
    reap_env: Env, layout: Layout, database_url: str, seaweed: S3Server, bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env(0)
    publish_list(database_url)
    assert run_cli(capsys, "storage", "reap", "--json")[0] == 0
    code, again, _ = run_cli(capsys, "storage", "reap", "--json")
    assert code == 0
    assert again["deleted"] == nothing_deleted() and again["deleted_bytes"] == 0
    assert again["kept_objects"] == again["scanned_objects"]
    assert set(seaweed.keys(bucket)) == layout.kept


def test_without_a_list_only_deregistered_folders_go_and_the_json_says_why(
    reap_env: Env, layout: Layout, seaweed: S3Server, bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env(0)
    code, report, _ = run_cli(capsys, "storage", "reap", "--json")
    assert code == 0
    assert [item["class"] for item in report["skipped"]] == ["superseded", "unlisted"]
    assert all("no Dynamic Desirability list" in item["reason"] for item in report["skipped"])
    assert report["deleted"] == {**nothing_deleted(), "deregistered": len(layout.deregistered)}
    assert set(seaweed.keys(bucket)) == layout.everything - layout.deregistered


def test_a_stale_metagraph_skips_deregistered_folders_and_keeps_them(
    layout: Layout, database_url: str, seaweed: S3Server, bucket: str, metagraph_file: object,
) -> None:  # fmt: skip
    publish_list(database_url)
    clock = [1000.0]

    async def scenario() -> dict[str, object]:
        cache = MetagraphCache(
            FileSource(metagraph_file),  # type: ignore[arg-type]
            refresh_seconds=60,
            max_age_seconds=3600,
            clock=lambda: clock[0],
        )
        await cache.refresh()
        clock[0] += 3601  # no refresh for over METAGRAPH_MAX_AGE_SECONDS
        storage = StorageCalls()
        db = Database(database_url)
        try:
            reaper = Reaper(Bucket(seaweed.client, bucket, storage), db, cache, Graces(0, 0, 0))
            report = await reaper.run(now=datetime.now(UTC))
            assert reaper.tallies.skipped["deregistered"] == 1
            return report.to_json()
        finally:
            storage.close()
            await db.close()
            await cache.stop()

    report = asyncio.run(scenario())
    assert report["skipped"] == [
        {"class": "deregistered", "reason": "the metagraph is 3601 s old, over "
         "METAGRAPH_MAX_AGE_SECONDS (3600 s)"}
    ]  # fmt: skip
    assert set(seaweed.keys(bucket)) == without_metagraph_kept(layout)


def test_a_missing_metagraph_skips_deregistered_folders(
    reap_env: Env, layout: Layout, database_url: str, seaweed: S3Server, bucket: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env(0)
    monkeypatch.setenv("METAGRAPH_FILE", "/nonexistent/metagraph.json")
    publish_list(database_url)
    code, report, _ = run_cli(capsys, "storage", "reap", "--json")
    assert code == 0
    assert [item["class"] for item in report["skipped"]] == ["deregistered"]
    assert set(seaweed.keys(bucket)) == without_metagraph_kept(layout)


def test_usage_matches_the_bucket(
    reap_env: Env, layout: Layout, seaweed: S3Server, bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env()
    code, usage, _ = run_cli(capsys, "storage", "usage", "--json")
    assert code == 0
    listing = seaweed.client.list_objects_v2(Bucket=bucket, Prefix="data/hotkey=")["Contents"]
    expected: dict[str, dict[str, object]] = {}
    for item in listing:
        hotkey, slash, _ = item["Key"][len("data/hotkey=") :].partition("/")
        if not slash:
            continue
        row = expected.setdefault(
            hotkey, {"hotkey": hotkey, "objects": 0, "bytes": 0, "newest": None}
        )
        row["objects"] = int(row["objects"]) + 1  # type: ignore[call-overload]
        row["bytes"] = int(row["bytes"]) + item["Size"]  # type: ignore[call-overload]
        stamp = item["LastModified"].astimezone(UTC).isoformat().replace("+00:00", "Z")
        row["newest"] = max(str(row["newest"] or ""), stamp)
    assert sorted(usage["miners"], key=lambda r: r["hotkey"]) == sorted(
        expected.values(), key=lambda r: str(r["hotkey"])
    )
    assert usage["total_objects"] == sum(int(r["objects"]) for r in expected.values())  # type: ignore[call-overload]
    assert usage["total_bytes"] == sum(int(r["bytes"]) for r in expected.values())  # type: ignore[call-overload]
    code, top, _ = run_cli(capsys, "storage", "usage", "--json", "--top", "1")
    assert len(top["miners"]) == 1 and top["total_objects"] == usage["total_objects"]
    assert top["miners"][0]["bytes"] == max(int(r["bytes"]) for r in expected.values())  # type: ignore[call-overload]


def test_a_pass_waits_for_no_one_when_another_holds_the_turn(
    reap_env: Env, layout: Layout, database_url: str, seaweed: S3Server, bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env(0)
    publish_list(database_url)

    async def hold_turn_and_run() -> int:
        db = Database(database_url)
        try:
            async with reaper_turn(db) as turn:
                assert turn
                return await asyncio.to_thread(run_cli, capsys, "storage", "reap", "--json")
        finally:
            await db.close()

    code, _, err = asyncio.run(hold_turn_and_run())  # type: ignore[misc]
    assert code == 1 and "another housekeeping pass is running" in err
    assert set(seaweed.keys(bucket)) == layout.everything


def test_text_output_names_the_counts_and_a_terminal_gets_a_progress_bar(
    reap_env: Env, layout: Layout, database_url: str, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    reap_env(0)
    code, out, _ = run_cli(capsys, "storage", "reap", "--dry-run")
    assert code == 0
    assert f"would remove 0 superseded, 0 unlisted, {len(layout.deregistered)} deregistered" in out
    assert "skipped unlisted: no Dynamic Desirability list has been published" in out
    code, out, _ = run_cli(capsys, "storage", "usage", "--top", "2")
    assert code == 0 and len(out.splitlines()) == 4  # header, two folders, totals

    bar = io.StringIO()
    progress = ProgressBar(4, bar)
    report = PassReport(dry_run=True, scanned_objects=10, folders=2)
    progress(report)
    assert bar.getvalue() == "\r[" + "#" * 15 + "." * 15 + "] 2/4 folders, 10 objects, 0 to remove"
