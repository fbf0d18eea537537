"""The pure decision: which objects of a hotkey folder are superseded, unlisted, deregistered."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.housekeeping.classes import (
    Graces,
    Knowledge,
    classify_folder,
    newest,
)
from app.storage.layout import dd_job_file, folder_hotkey
from app.storage.listing import StoredObject

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = 3600.0
DEFAULT = Graces(superseded=6 * HOUR, unlisted=168 * HOUR, deregistered=168 * HOUR)
ZERO = Graces(0, 0, 0)
HK = "5HotkeyRegistered"
LISTED = Knowledge(listed={"job-a", "job-b"}, registered={HK})


def obj(key: str, hours_ago: float, size: int = 10) -> StoredObject:
    return StoredObject(key, size, NOW - timedelta(hours=hours_ago))


def job(job_id: str, name: str, hours_ago: float, hotkey: str = HK) -> StoredObject:
    return obj(f"data/hotkey={hotkey}/job_id={job_id}/{name}", hours_ago)


def reasons(doomed: list) -> dict[str, str]:
    return {d.key: d.reason for d in doomed}


def test_layout_finds_hotkey_and_job_of_keys() -> None:
    assert folder_hotkey("data/hotkey=abc/x") == "abc"
    assert folder_hotkey("data/hotkey=abc") is None
    assert folder_hotkey("data/x/abc/f") is None
    assert dd_job_file("data/hotkey=abc/job_id=j1/f.parquet") == ("abc", "j1")
    assert dd_job_file("data/hotkey=abc/job_id=j1/") is None
    assert dd_job_file("data/hotkey=abc/job_id=j1/deeper/f.parquet") is None
    assert dd_job_file("data/hotkey=abc/loose.parquet") is None
    assert dd_job_file("on-demand-jobs/date=2026-01-01/hour=01/job_id=j/hk.json") is None


def test_older_snapshots_of_a_listed_job_are_superseded_once_the_newer_one_is_past_grace() -> None:
    files = [
        job("job-a", "1.parquet", 20),
        job("job-a", "2.parquet", 10),
        job("job-a", "3.parquet", 1),
    ]
    doomed = reasons(classify_folder(HK, files, LISTED, DEFAULT, NOW))
    # 2 is 10 h old (past 6 h), so 1 is superseded; 3 is only 1 h old, so 2 stays.
    assert doomed == {files[0].key: "superseded"}


def test_nothing_is_removed_inside_the_graces() -> None:
    files = [
        job("job-a", "1.parquet", 3),
        job("job-a", "2.parquet", 2),
        job("gone-job", "1.parquet", 100),
        obj("data/hotkey=5Other/job_id=job-a/1.parquet", 100),
    ]
    assert classify_folder(HK, files[:3], LISTED, DEFAULT, NOW) == []
    assert classify_folder("5Other", files[3:], LISTED, DEFAULT, NOW) == []


def test_with_graces_zero_exactly_the_newest_file_of_each_listed_job_survives() -> None:
    files = [
        job("job-a", "z-old.parquet", 3),
        job("job-a", "a-new.parquet", 1),  # newest by time though first by name
        job("job-b", "only.parquet", 5),
        obj(f"data/hotkey={HK}/loose.parquet", 9),
        obj(f"data/hotkey={HK}/job_id=job-a/deep/f.parquet", 9),
    ]
    doomed = reasons(classify_folder(HK, files, LISTED, ZERO, NOW))
    assert doomed == {files[0].key: "superseded"}


def test_ties_of_last_modified_are_broken_by_key_so_one_file_survives() -> None:
    files = [job("job-a", f"{name}.parquet", 2) for name in ("b", "c", "a")]
    doomed = reasons(classify_folder(HK, files, LISTED, ZERO, NOW))
    assert sorted(doomed) == sorted(f.key for f in files if not f.key.endswith("c.parquet"))
    assert newest(files).key.endswith("c.parquet")


def test_every_file_of_an_unlisted_job_goes_when_its_newest_is_past_grace() -> None:
    old = [job("gone", "1.parquet", 200), job("gone", "2.parquet", 170)]
    recent = [job("recent-gone", "1.parquet", 400), job("recent-gone", "2.parquet", 100)]
    doomed = reasons(classify_folder(HK, old + recent, LISTED, DEFAULT, NOW))
    assert doomed == {f.key: "unlisted" for f in old}


def test_a_deregistered_hotkey_loses_its_whole_folder_after_grace() -> None:
    folder = [
        obj("data/hotkey=5Gone/job_id=job-a/1.parquet", 200),
        obj("data/hotkey=5Gone/anything/else.bin", 180),
    ]
    doomed = reasons(classify_folder("5Gone", folder, LISTED, DEFAULT, NOW))
    assert doomed == {f.key: "deregistered" for f in folder}
    fresh = [*folder, obj("data/hotkey=5Gone/new.bin", 1)]
    assert classify_folder("5Gone", fresh, LISTED, DEFAULT, NOW) == []


def test_no_list_skips_superseded_and_unlisted() -> None:
    knowledge = Knowledge(listed=None, registered={HK})
    files = [job("job-a", "1.parquet", 300), job("job-a", "2.parquet", 200)]
    assert classify_folder(HK, files, knowledge, ZERO, NOW) == []


def test_no_metagraph_skips_deregistered_only() -> None:
    knowledge = Knowledge(listed={"job-a"}, registered=None)
    stranger = [
        obj("data/hotkey=5Who/job_id=job-a/1.parquet", 300),
        obj("data/hotkey=5Who/job_id=job-a/2.parquet", 200),
        obj("data/hotkey=5Who/loose.bin", 300),
    ]
    doomed = reasons(classify_folder("5Who", stranger, knowledge, ZERO, NOW))
    assert doomed == {stranger[0].key: "superseded"}


def test_the_newest_file_of_a_listed_job_of_a_registered_hotkey_is_never_removed() -> None:
    rng = random.Random(13)
    for _ in range(300):
        files = [
            job(
                rng.choice(["job-a", "job-b", "old"]),
                f"{rng.randrange(50)}.parquet",
                rng.choice([0, 1, 5, 500]),
            )
            for _ in range(rng.randrange(1, 12))
        ]
        files = list({f.key: f for f in files}.values())
        graces = Graces(*(rng.choice([0.0, 1.0, 6 * HOUR]) for _ in range(3)))
        doomed = {d.key for d in classify_folder(HK, files, LISTED, graces, NOW)}
        for job_id in ("job-a", "job-b"):
            mine = [f for f in files if f"/job_id={job_id}/" in f.key]
            if mine:
                assert newest(mine).key not in doomed
