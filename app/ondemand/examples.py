"""Example requests and answers of the on-demand endpoints, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.routes.examples import MINER_HOTKEY

JOB_ID = "d2d96267-63f7-40a6-ae9e-608e07266cb0"
ANSWER_KEY = f"on-demand-jobs/date=2026-08-05/hour=12/job_id={JOB_ID}/{MINER_HOTKEY}.json"
_URL = "https://s3.example.org/data-universe-storage/"
_SIGNED = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=5d6c"

CREATE_REQUEST: dict[str, Any] = {
    "job": {
        "job": {"platform": "x", "keywords": ["#bittensor"]},
        "limit": 100,
        "keyword_mode": "any",
    }
}
CREATE_ANSWER = {"job_id": JOB_ID}

JOB: dict[str, Any] = {
    "id": JOB_ID,
    "created_at": "2026-08-05T12:00:00.123456+00:00",
    "expire_at": "2026-08-05T12:02:00.123456+00:00",
    "job": {"platform": "x", "usernames": None, "keywords": ["#bittensor"], "url": None},
    "start_date": None,
    "end_date": None,
    "limit": 100,
    "keyword_mode": "any",
}
SUBMISSION: dict[str, Any] = {
    "job_id": JOB_ID,
    "miner_hotkey": MINER_HOTKEY,
    "miner_incentive": 0.0042,
    "submitted_at": "2026-08-05T12:00:21.5+00:00",
    "s3_path": ANSWER_KEY,
    "s3_presigned_url": f"{_URL}{ANSWER_KEY}?{_SIGNED}",
    "s3_content_length": 48213,
    "s3_etag": "9b2cf535f27731c974343645a3985328",
    "s3_last_modified": "2026-08-05T12:00:24+00:00",
}
SUBMISSIONS_ANSWER = {"submissions": [SUBMISSION]}

ACTIVE_REQUEST = {"since": "2026-08-05T11:58:00.000000Z"}
ACTIVE_ANSWER = {"jobs": [JOB]}
SUBMIT_REQUEST: dict[str, Any] = {
    "submission": {
        "job_id": JOB_ID,
        "miner_hotkey": "",
        "miner_incentive": 0.0,
        "s3_path": None,
        "s3_presigned_url": None,
        "s3_etag": None,
        "s3_content_length": None,
        "s3_last_modified": None,
        "submitted_at": None,
    }
}
SUBMIT_ANSWER = {
    "presigned_post_upload_data": {
        "url": "https://s3.example.org/data-universe-storage",
        "fields": {
            "key": ANSWER_KEY,
            "Content-Type": "application/json",
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-credential": "AKIAEXAMPLE/20260805/us-east-1/s3/aws4_request",
            "x-amz-date": "20260805T120021Z",
            "policy": "eyJleHBpcmF0aW9uIjogIjIwMjYtMDgtMDVUMTI6MDI6MDBaIiwgLi4ufQ==",
            "x-amz-signature": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
        },
    }
}

WINDOW = {
    "expired_since": "2026-08-05T09:00:00.000000Z",
    "expired_until": "2026-08-05T12:00:00.000000Z",
}
MINER_JOBS_REQUEST = {"miner_hotkey": MINER_HOTKEY, **WINDOW, "limit": 1000}
MINER_JOBS_ANSWER = {"jobs": [{"job": JOB, "submission": SUBMISSION}]}
STATS_REQUEST = {**WINDOW, "min_submitters": 5}
STATS_ANSWER = {
    "platforms": {
        "x": {"total_jobs": 60, "doable_jobs": 4},
        "reddit": {"total_jobs": 90, "doable_jobs": 85},
    }
}
JOBS_REQUEST = {**WINDOW, "limit": 10}
JOBS_ANSWER = {"jobs_with_submissions": [{"job": JOB, "submissions": [SUBMISSION]}]}
