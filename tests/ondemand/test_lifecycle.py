"""After a job's window closes, what landed is recorded once; old jobs and answers are deleted."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import httpx2
from fastapi.testclient import TestClient

from app.main import create_app
from app.ondemand.models import Job, Submission
from app.ondemand.schemas import JobsRequest, JobStatsRequest, MinerJobsRequest
from app.storage.presign import UploadForm
from config import Settings
from tests.app_state import count_rows, on_app_loop, services_of
from tests.conftest import S3Server
from tests.ondemand.conftest import CUSTOMER, answer_upload, create_job, job_row

MINER_A = "5MinerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
MINER_B = "5MinerBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
ANSWER = b'{"data_entities": [{"uri": "https://x.com/a/status/1"}]}'


def submit(client: TestClient, job_id: str, hotkey: str) -> UploadForm:
    call = functools.partial(services_of(client).ondemand.submit, job_id, hotkey, 0.25)
    return on_app_loop(client, call)  # type: ignore[no-any-return]


def settle(client: TestClient, now: datetime) -> int:
    call = functools.partial(services_of(client).ondemand.settler.run_once, now)
    return int(on_app_loop(client, call))


def window(job: Job) -> dict[str, Any]:
    return {
        "expired_since": job.expire_at - timedelta(minutes=1),
        "expired_until": job.expire_at + timedelta(minutes=1),
    }


def miner_jobs(client: TestClient, job: Job, hotkey: str) -> list[dict[str, Any]]:
    request = MinerJobsRequest(miner_hotkey=hotkey, **window(job))
    answer = on_app_loop(client, services_of(client).ondemand.miner_jobs, request)
    return json.loads(answer)["jobs"]  # type: ignore[no-any-return]


def job_with_two_submissions(client: TestClient) -> tuple[Job, UploadForm]:
    job_id = create_job(client)
    form = submit(client, job_id, MINER_A)
    submit(client, job_id, MINER_B)  # never uploads
    assert answer_upload(form.url, form.fields, ANSWER) in (200, 201, 204)
    return job_row(client, job_id), form


def test_validators_see_nothing_landed_before_the_window_closes(od_client: TestClient) -> None:
    job, _ = job_with_two_submissions(od_client)
    assert settle(od_client, job.expire_at) == 0  # within the grace after expiry
    [entry] = miner_jobs(od_client, job, MINER_A)
    assert entry["submission"]["s3_content_length"] is None
    assert entry["submission"]["s3_presigned_url"] is None


def test_settling_records_what_landed_from_storage(od_client: TestClient) -> None:
    job, _ = job_with_two_submissions(od_client)
    assert settle(od_client, job.expire_at + timedelta(seconds=11)) == 1

    [landed] = miner_jobs(od_client, job, MINER_A)
    submission = landed["submission"]
    assert submission["s3_content_length"] == len(ANSWER)
    assert submission["s3_etag"] == hashlib.md5(ANSWER).hexdigest()
    assert datetime.fromisoformat(submission["s3_last_modified"]).utcoffset() == timedelta(0)
    download = httpx2.get(submission["s3_presigned_url"], timeout=30)
    assert download.status_code == 200
    assert download.content == ANSWER

    [missing] = miner_jobs(od_client, job, MINER_B)
    assert missing["submission"]["s3_content_length"] is None
    assert missing["submission"]["s3_presigned_url"] is None
    assert job_row(od_client, job.id).settled_at is not None


def test_a_settled_job_is_not_listed_again(od_client: TestClient, seaweed: S3Server) -> None:
    job, form = job_with_two_submissions(od_client)
    assert settle(od_client, job.expire_at + timedelta(seconds=11)) == 1
    # Storage changing afterwards (it cannot through the form) does not change the record.
    seaweed.client.delete_object(
        Bucket=od_client.app.state.services.settings.s3_bucket,  # type: ignore[attr-defined]
        Key=form.fields["key"],
    )
    assert settle(od_client, job.expire_at + timedelta(seconds=30)) == 0
    assert miner_jobs(od_client, job, MINER_A)[0]["submission"]["s3_content_length"] == len(ANSWER)


def test_two_replicas_settle_a_job_once(od_client: TestClient, od_settings: Settings) -> None:
    job, _ = job_with_two_submissions(od_client)
    later = job.expire_at + timedelta(seconds=11)
    with TestClient(create_app(od_settings)) as replica:
        settled = settle(replica, later) + settle(od_client, later)
    assert settled == 1


def test_stats_count_jobs_and_those_with_enough_landed_answers(od_client: TestClient) -> None:
    job, _ = job_with_two_submissions(od_client)
    create_job(od_client, job={"platform": "reddit", "subreddit": "r/ai"})
    settle(od_client, job.expire_at + timedelta(seconds=11))
    services = services_of(od_client)

    def stats(min_submitters: int) -> dict[str, Any]:
        request = JobStatsRequest(min_submitters=min_submitters, **window(job))
        return on_app_loop(od_client, services.ondemand.stats, request)["platforms"]  # type: ignore[no-any-return]

    assert stats(1) == {
        "x": {"total_jobs": 1, "doable_jobs": 1},
        "reddit": {"total_jobs": 1, "doable_jobs": 0},
    }
    # Two miners submitted, one answer landed: not doable with two.
    assert stats(2)["x"] == {"total_jobs": 1, "doable_jobs": 0}


def test_jobs_with_submissions_lists_jobs_that_had_any(od_client: TestClient) -> None:
    job, _ = job_with_two_submissions(od_client)
    create_job(od_client)  # no submissions: not listed
    request = JobsRequest(**window(job))
    answer = on_app_loop(od_client, services_of(od_client).ondemand.jobs, request)
    [entry] = answer["jobs_with_submissions"]
    assert entry["job"]["id"] == job.id
    assert {s["miner_hotkey"] for s in entry["submissions"]} == {MINER_A, MINER_B}


def test_customer_sees_an_answer_as_soon_as_it_lands(od_client: TestClient) -> None:
    job, _ = job_with_two_submissions(od_client)
    answer = od_client.get(f"/on-demand/constellation/jobs/{job.id}", headers=CUSTOMER)
    assert answer.status_code == 200
    by_miner = {s["miner_hotkey"]: s for s in answer.json()["submissions"]}
    assert by_miner[MINER_A]["s3_content_length"] == len(ANSWER)
    assert httpx2.get(by_miner[MINER_A]["s3_presigned_url"], timeout=30).content == ANSWER
    assert by_miner[MINER_B]["s3_presigned_url"] is None


def test_retention_deletes_old_jobs_submissions_and_answers(
    od_client: TestClient, seaweed: S3Server
) -> None:
    job, form = job_with_two_submissions(od_client)
    fresh = create_job(od_client)
    bucket = services_of(od_client).settings.s3_bucket
    assert seaweed.keys(bucket) == [form.fields["key"]]
    services = services_of(od_client)
    retention = services.ondemand.retention

    just_kept = job.expire_at + retention - timedelta(seconds=1)
    assert on_app_loop(od_client, services.ondemand.cleaner.run_once, just_kept) == 0
    past = job_row(od_client, fresh).expire_at + retention + timedelta(seconds=1)
    assert on_app_loop(od_client, services.ondemand.cleaner.run_once, past) == 2

    assert count_rows(od_client, Job) == 0
    assert count_rows(od_client, Submission) == 0
    assert seaweed.keys(bucket) == []


def test_window_renders_jobs_exactly_as_every_other_answer(od_client: TestClient) -> None:
    from app.ondemand.views import job_view

    job_id = create_job(
        od_client,
        job={"platform": "x", "usernames": ["über", "tao"]},
        start_date="2026-08-05T10:00:00Z",
        limit=7,
        keyword_mode="all",
    )
    submit(od_client, job_id, MINER_A)
    job = job_row(od_client, job_id)
    for _ in range(2):  # rendered, then from the rendered-jobs cache
        [entry] = miner_jobs(od_client, job, MINER_A)
        assert entry["job"] == job_view(job)
