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


def _compact(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def job_fragment(row: Sequence[Any]) -> bytes:
    """A job's JSON from a `repository.miner_jobs` row, its `job` object spliced in as stored."""
    (job_id, created, expires, payload_json, start, end, limit, mode) = row[:8]
    head = _compact({"id": job_id, "created_at": iso(created), "expire_at": iso(expires)})
    tail = _compact(
        {"start_date": iso(start), "end_date": iso(end), "limit": limit, "keyword_mode": mode}
    )
    return f'{head[:-1]},"job":{payload_json},{tail[1:]}'.encode()


def submission_fragment(row: Sequence[Any], url: str | None) -> bytes:
    (job_id, hotkey, incentive, submitted, path, size, etag, modified) = row[8:]
    return _compact(
        {
            "job_id": job_id,
            "miner_hotkey": hotkey,
            "miner_incentive": incentive,
            "submitted_at": submitted.isoformat(),
            "s3_path": path,
            "s3_presigned_url": url,
            "s3_content_length": size,
            "s3_etag": etag,
            "s3_last_modified": iso(modified),
        }
    ).encode()


class JobFragments:
    """Rendered jobs by id. Jobs never change, and validators read the same jobs for every
    miner they score, so each job is rendered about once rather than once per miner."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._cache: dict[str, bytes] = {}

    def get(self, row: Sequence[Any]) -> bytes:
        fragment = self._cache.get(row[0])
        if fragment is None:
            if len(self._cache) >= self.size:
                self._cache.clear()
            fragment = self._cache[row[0]] = job_fragment(row)
        return fragment
