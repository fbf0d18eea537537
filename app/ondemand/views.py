"""Jobs and submissions as the answers show them: every datetime with its timezone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.ondemand.models import Job, Submission


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "created_at": iso(job.created_at),
        "expire_at": iso(job.expire_at),
        "job": job.payload,
        "start_date": iso(job.start_date),
        "end_date": iso(job.end_date),
        "limit": job.limit,
        "keyword_mode": job.keyword_mode,
    }


def job_json(job: Job) -> bytes:
    return json.dumps(job_view(job), separators=(",", ":"), ensure_ascii=False).encode()


def submission_view(submission: Submission, url: str | None) -> dict[str, Any]:
    return {
        "job_id": submission.job_id,
        "miner_hotkey": submission.miner_hotkey,
        "miner_incentive": submission.miner_incentive,
        "submitted_at": iso(submission.submitted_at),
        "s3_path": submission.s3_path,
        "s3_presigned_url": url,
        "s3_content_length": submission.s3_content_length,
        "s3_etag": submission.s3_etag,
        "s3_last_modified": iso(submission.s3_last_modified),
    }


def window_entry(row: Sequence[Any], url: str | None) -> dict[str, Any]:
    """`{"job", "submission"}` from a row of `repository.miner_jobs` (a thousand per answer)."""
    (job_id, created, expires, payload, start, end, limit, mode) = row[:8]
    (_, hotkey, incentive, submitted, path, size, etag, modified) = row[8:]
    return {
        "job": {
            "id": job_id,
            "created_at": created.isoformat(),
            "expire_at": expires.isoformat(),
            "job": payload,
            "start_date": start and start.isoformat(),
            "end_date": end and end.isoformat(),
            "limit": limit,
            "keyword_mode": mode,
        },
        "submission": {
            "job_id": job_id,
            "miner_hotkey": hotkey,
            "miner_incentive": incentive,
            "submitted_at": submitted.isoformat(),
            "s3_path": path,
            "s3_presigned_url": url,
            "s3_content_length": size,
            "s3_etag": etag,
            "s3_last_modified": modified and modified.isoformat(),
        },
    }
