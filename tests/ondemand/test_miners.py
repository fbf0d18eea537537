"""Miners poll open jobs and get one exact-key upload form per job, with Tao v2 signatures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.ondemand.models import Submission
from app.storage.layout import ondemand_answer_key
from tests.app_state import count_rows, services_of
from tests.conftest import S3Server, Subnet
from tests.ondemand.conftest import answer_upload, create_job, insert_job, job_row, signed_post

ACTIVE = "/on-demand/miner/jobs/active"
SUBMIT = "/on-demand/miner/jobs/submit"


def since(minutes: float = 2) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def poll(client: TestClient, subnet: Subnet, **body: Any) -> Any:
    answer = signed_post(client, ACTIVE, subnet.miner.hotkey, {"since": since(), **body})
    assert answer.status_code == 200, answer.text
    return answer.json()["jobs"]


def deployed_submission(job_id: str, **fields: Any) -> dict[str, Any]:
    """The body today's miners send: every submission field, most of them null."""
    return {
        "submission": {
            "job_id": job_id,
            "miner_hotkey": "",
            "miner_incentive": 0.0,
            "s3_path": None,
            "s3_presigned_url": None,
            "s3_etag": None,
            "s3_content_length": None,
            "s3_last_modified": None,
            "submitted_at": None,
            **fields,
        }
    }


def submit(client: TestClient, subnet: Subnet, job_id: str, **fields: Any) -> Any:
    return signed_post(client, SUBMIT, subnet.miner.hotkey, deployed_submission(job_id, **fields))


def test_new_job_is_shown_to_miners_with_timezones(od_client: TestClient, subnet: Subnet) -> None:
    job_id = create_job(od_client, job={"platform": "reddit", "subreddit": "r/bittensor_"})
    [job] = poll(od_client, subnet)
    assert job["id"] == job_id
    assert job["job"] == {
        "platform": "reddit",
        "subreddit": "r/bittensor_",
        "usernames": None,
        "keywords": None,
    }
    assert job["limit"] == 100
    assert job["keyword_mode"] == "any"
    created = datetime.fromisoformat(job["created_at"])
    expires = datetime.fromisoformat(job["expire_at"])
    assert created.utcoffset() == timedelta(0)
    assert expires - created == timedelta(seconds=120)


def test_jobs_are_newest_first_and_since_filters_older_ones(
    od_client: TestClient, subnet: Subnet
) -> None:
    now = datetime.now(UTC)
    old = insert_job(od_client, created_at=now - timedelta(minutes=5))
    middle = insert_job(od_client, created_at=now - timedelta(minutes=1))
    newest = insert_job(od_client, created_at=now)
    assert [job["id"] for job in poll(od_client, subnet)] == [newest, middle]
    answer = signed_post(od_client, ACTIVE, subnet.miner.hotkey, {"since": since(6)})
    assert [job["id"] for job in answer.json()["jobs"]] == [newest, middle, old]


def test_job_with_less_than_10_s_left_is_not_shown(od_client: TestClient, subnet: Subnet) -> None:
    insert_job(od_client, expire_at=datetime.now(UTC) + timedelta(seconds=8))
    assert poll(od_client, subnet) == []


def test_youtube_job_in_the_database_is_never_shown(od_client: TestClient, subnet: Subnet) -> None:
    insert_job(od_client, platform="youtube", payload={"platform": "youtube", "channels": ["a"]})
    shown = create_job(od_client)
    assert [job["id"] for job in poll(od_client, subnet)] == [shown]


def test_since_more_than_10_minutes_ago_is_422(od_client: TestClient, subnet: Subnet) -> None:
    answer = signed_post(od_client, ACTIVE, subnet.miner.hotkey, {"since": since(11)})
    assert answer.status_code == 422
    assert "10 minutes" in answer.json()["detail"]


def test_unregistered_poller_is_401(od_client: TestClient, subnet: Subnet) -> None:
    answer = signed_post(od_client, ACTIVE, subnet.outsider, {"since": since()})
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_registered"


def test_submission_gets_a_form_that_uploads_the_answer(
    od_client: TestClient, subnet: Subnet, seaweed: S3Server
) -> None:
    job_id = create_job(od_client)
    answer = submit(od_client, subnet, job_id)
    assert answer.status_code == 200, answer.text
    form = answer.json()["presigned_post_upload_data"]
    job = job_row(od_client, job_id)
    key = ondemand_answer_key(job_id, job.created_at, subnet.miner.hotkey.ss58_address)
    assert form["fields"]["key"] == key
    assert form["fields"]["Content-Type"] == "application/json"
    assert answer_upload(form["url"], form["fields"], b'{"data_entities": []}') == 204
    bucket = services_of(od_client).settings.s3_bucket
    assert seaweed.keys(bucket) == [key]


def test_form_cannot_write_another_miners_answer(
    od_client: TestClient, subnet: Subnet, seaweed: S3Server
) -> None:
    job_id = create_job(od_client)
    form = submit(od_client, subnet, job_id).json()["presigned_post_upload_data"]
    other = form["fields"]["key"].replace(
        subnet.miner.hotkey.ss58_address, subnet.other_miner.hotkey.ss58_address
    )
    assert answer_upload(form["url"], {**form["fields"], "key": other}, b"{}") == 403
    assert seaweed.keys(services_of(od_client).settings.s3_bucket) == []


def test_form_refuses_an_answer_over_ondemand_max_bytes(
    od_client: TestClient, subnet: Subnet, seaweed: S3Server
) -> None:
    job_id = create_job(od_client)
    form = submit(od_client, subnet, job_id).json()["presigned_post_upload_data"]
    assert answer_upload(form["url"], form["fields"], b"x" * 1001) in (400, 403)
    assert seaweed.keys(services_of(od_client).settings.s3_bucket) == []


def test_server_sets_hotkey_time_and_path_whatever_the_body_says(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = create_job(od_client)
    claimed = {"miner_hotkey": subnet.other_miner.hotkey.ss58_address, "s3_path": "data/evil"}
    assert submit(od_client, subnet, job_id, **claimed).status_code == 200
    stored = services_of(od_client).ondemand
    assert stored is not None
    [entry] = od_client.get(
        f"/on-demand/constellation/jobs/{job_id}", headers={"X-API-Key": "customer-key-1"}
    ).json()["submissions"]
    assert entry["miner_hotkey"] == subnet.miner.hotkey.ss58_address
    assert entry["s3_path"].startswith("on-demand-jobs/")
    assert datetime.fromisoformat(entry["submitted_at"]).utcoffset() == timedelta(0)


def test_a_repeat_before_the_answer_landed_gets_the_same_keys_form_and_409_after(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = create_job(od_client)
    first = submit(od_client, subnet, job_id)
    assert first.status_code == 200
    repeat = submit(od_client, subnet, job_id)
    assert repeat.status_code == 200, repeat.text
    form = repeat.json()["presigned_post_upload_data"]
    assert form["fields"]["key"] == first.json()["presigned_post_upload_data"]["fields"]["key"]
    assert count_rows(od_client, Submission) == 1
    assert answer_upload(form["url"], form["fields"], b'{"data": []}') == 204
    again = submit(od_client, subnet, job_id)
    assert again.status_code == 409
    assert again.json()["code"] == "already_submitted"
    assert count_rows(od_client, Submission) == 1


def test_unknown_job_is_404(od_client: TestClient, subnet: Subnet) -> None:
    answer = submit(od_client, subnet, str(uuid.uuid4()))
    assert answer.status_code == 404
    assert answer.json()["code"] == "job_not_found"


def test_job_with_under_5_s_left_is_400_job_expired(od_client: TestClient, subnet: Subnet) -> None:
    job_id = insert_job(od_client, expire_at=datetime.now(UTC) + timedelta(seconds=3))
    answer = submit(od_client, subnet, job_id)
    assert answer.status_code == 400
    assert answer.json()["code"] == "job_expired"
    assert count_rows(od_client, Submission) == 0


def test_failures_beyond_the_limit_are_429_and_store_nothing(
    od_client: TestClient, subnet: Subnet
) -> None:
    for _ in range(2):  # RATE_LIMIT_ONDEMAND_FAILURES=2/minute, the default
        assert submit(od_client, subnet, str(uuid.uuid4())).status_code == 404
    job_id = create_job(od_client)
    refused = submit(od_client, subnet, job_id)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert count_rows(od_client, Submission) == 0
    # Another miner's failures are its own.
    other = signed_post(od_client, SUBMIT, subnet.other_miner.hotkey, deployed_submission(job_id))
    assert other.status_code == 200


def test_submission_without_job_id_is_422(od_client: TestClient, subnet: Subnet) -> None:
    answer = signed_post(od_client, SUBMIT, subnet.miner.hotkey, {"submission": {}})
    assert answer.status_code == 422
    assert count_rows(od_client, Submission) == 0


def test_validator_endpoints_refuse_a_miner(od_client: TestClient, subnet: Subnet) -> None:
    body = {"expired_since": since(60), "expired_until": since(0)}
    answer = signed_post(od_client, "/on-demand/validator/jobs/stats", subnet.miner.hotkey, body)
    assert answer.status_code == 403
    assert answer.json()["code"] == "no_permit"


def test_job_id_that_cannot_exist_is_404(od_client: TestClient, subnet: Subnet) -> None:
    for job_id in ("x\u0000y", "../../etc", "a" * 64):
        answer = submit(od_client, subnet, job_id)
        assert answer.status_code in (404, 429)
        assert answer.json()["code"] in ("job_not_found", "rate_limited")
    assert count_rows(od_client, Submission) == 0
