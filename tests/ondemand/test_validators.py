"""Validators read miners' submissions and job stats from recorded facts, signed with Tao v2."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.app_state import on_app_loop, services_of
from tests.conftest import Subnet
from tests.ondemand.conftest import answer_upload, create_job, job_row, signed_post

MINER_JOBS = "/on-demand/validator/miner-jobs"
STATS = "/on-demand/validator/jobs/stats"
JOBS = "/on-demand/validator/jobs"
SUBMIT = "/on-demand/miner/jobs/submit"
ANSWER = b'{"data_entities": [{"uri": "https://reddit.com/r/ai/1"}]}'


def z(moment: datetime) -> str:
    """As deployed validators write it: UTC with microseconds and `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def answered_job(client: TestClient, subnet: Subnet) -> str:
    """A job the miner answered (landed) and the other miner submitted to but never uploaded."""
    job_id = create_job(client, job={"platform": "reddit", "subreddit": "r/ai"})
    body = {"submission": {"job_id": job_id}}
    form = signed_post(client, SUBMIT, subnet.miner.hotkey, body).json()
    data = form["presigned_post_upload_data"]
    assert answer_upload(data["url"], data["fields"], ANSWER) == 204
    assert signed_post(client, SUBMIT, subnet.other_miner.hotkey, body).status_code == 200
    return job_id


def settle_after_window(client: TestClient, job_id: str) -> None:
    later = job_row(client, job_id).expire_at + timedelta(seconds=11)
    settle = functools.partial(services_of(client).ondemand.settler.run_once, later)
    assert on_app_loop(client, settle) == 1


def around(client: TestClient, job_id: str) -> dict[str, str]:
    expire = job_row(client, job_id).expire_at
    return {"expired_since": z(expire - timedelta(hours=3)), "expired_until": z(expire)}


def validator_post(client: TestClient, subnet: Subnet, path: str, body: dict[str, Any]) -> Any:
    answer = signed_post(client, path, subnet.validator.hotkey, body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_miner_jobs_show_landed_answers_with_a_working_url(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = answered_job(od_client, subnet)
    settle_after_window(od_client, job_id)
    body = {"miner_hotkey": subnet.miner.hotkey.ss58_address, **around(od_client, job_id)}
    [entry] = validator_post(od_client, subnet, MINER_JOBS, {**body, "limit": 1000})["jobs"]

    assert entry["job"]["id"] == job_id
    assert entry["job"]["job"]["platform"] == "reddit"
    for moment in (entry["job"]["created_at"], entry["job"]["expire_at"]):
        assert datetime.fromisoformat(moment).utcoffset() == timedelta(0)
    submission = entry["submission"]
    assert submission["miner_hotkey"] == subnet.miner.hotkey.ss58_address
    assert submission["s3_content_length"] == len(ANSWER)
    download = httpx2.get(submission["s3_presigned_url"], follow_redirects=True, timeout=30)
    assert download.status_code == 200
    assert download.content == ANSWER


def test_answer_that_never_arrived_has_no_length_and_no_url(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = answered_job(od_client, subnet)
    settle_after_window(od_client, job_id)
    body = {"miner_hotkey": subnet.other_miner.hotkey.ss58_address, **around(od_client, job_id)}
    [entry] = validator_post(od_client, subnet, MINER_JOBS, body)["jobs"]
    assert entry["submission"]["s3_content_length"] is None
    assert entry["submission"]["s3_presigned_url"] is None


def test_window_beyond_retention_is_clamped_not_refused(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = answered_job(od_client, subnet)
    body = {
        "miner_hotkey": subnet.miner.hotkey.ss58_address,
        "expired_since": z(datetime.now(UTC) - timedelta(days=365)),
        "expired_until": around(od_client, job_id)["expired_until"],
    }
    jobs = validator_post(od_client, subnet, MINER_JOBS, body)["jobs"]
    assert [entry["job"]["id"] for entry in jobs] == [job_id]


def test_stats_count_doable_jobs_by_landed_answers(od_client: TestClient, subnet: Subnet) -> None:
    job_id = answered_job(od_client, subnet)
    settle_after_window(od_client, job_id)
    window = around(od_client, job_id)
    one = validator_post(od_client, subnet, STATS, {**window, "min_submitters": 1})
    assert one["platforms"]["reddit"] == {"total_jobs": 1, "doable_jobs": 1}
    assert one["platforms"]["x"] == {"total_jobs": 0, "doable_jobs": 0}
    two = validator_post(od_client, subnet, STATS, {**window, "min_submitters": 2})
    assert two["platforms"]["reddit"] == {"total_jobs": 1, "doable_jobs": 0}


def test_jobs_lists_each_job_with_all_its_submissions(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = answered_job(od_client, subnet)
    settle_after_window(od_client, job_id)
    answer = validator_post(od_client, subnet, JOBS, {**around(od_client, job_id), "limit": 10})
    [entry] = answer["jobs_with_submissions"]
    assert entry["job"]["id"] == job_id
    urls = {s["miner_hotkey"]: s["s3_presigned_url"] for s in entry["submissions"]}
    assert urls[subnet.other_miner.hotkey.ss58_address] is None
    assert urls[subnet.miner.hotkey.ss58_address] is not None


BAD_BODIES = {
    "until before since": {
        "expired_since": "2026-08-05T12:00:00Z",
        "expired_until": "2026-08-05T11:00:00Z",
    },
    "no window": {},
    "not a date": {"expired_since": "yesterday", "expired_until": "2026-08-05T11:00:00Z"},
}


@pytest.mark.parametrize("path", [MINER_JOBS, STATS, JOBS])
@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_malformed_window_is_422(
    od_client: TestClient, subnet: Subnet, path: str, body: dict[str, Any]
) -> None:
    full = {"miner_hotkey": subnet.miner.hotkey.ss58_address, **body}
    answer = signed_post(od_client, path, subnet.validator.hotkey, full)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        (MINER_JOBS, {"limit": 1001}),
        (MINER_JOBS, {"limit": 0}),
        (STATS, {"min_submitters": 101}),
        (JOBS, {"limit": 11}),
    ],
)
def test_out_of_range_limits_are_422(
    od_client: TestClient, subnet: Subnet, path: str, extra: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    body = {
        "miner_hotkey": subnet.miner.hotkey.ss58_address,
        "expired_since": z(now - timedelta(hours=3)),
        "expired_until": z(now),
        **extra,
    }
    assert signed_post(od_client, path, subnet.validator.hotkey, body).status_code == 422


def test_validator_below_min_stake_is_403(od_client: TestClient, subnet: Subnet) -> None:
    now = datetime.now(UTC)
    body = {"expired_since": z(now - timedelta(hours=3)), "expired_until": z(now)}
    answer = signed_post(od_client, STATS, subnet.poor_validator.hotkey, body)
    assert answer.status_code == 403
    assert answer.json()["code"] == "low_stake"


def test_miner_hotkey_that_is_not_base58_is_422(od_client: TestClient, subnet: Subnet) -> None:
    now = datetime.now(UTC)
    body = {
        "miner_hotkey": "5F\u0000' OR 1=1",
        "expired_since": z(now - timedelta(hours=3)),
        "expired_until": z(now),
    }
    answer = signed_post(od_client, MINER_JOBS, subnet.validator.hotkey, body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"
