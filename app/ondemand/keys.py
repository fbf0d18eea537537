"""Where on-demand answers live in the bucket."""

from __future__ import annotations

from datetime import datetime


def job_prefix(job_id: str, created_at: datetime) -> str:
    """The folder of one job's answers; every answer of a job shares it (its creation hour)."""
    return f"on-demand-jobs/date={created_at:%Y-%m-%d}/hour={created_at:%H}/job_id={job_id}/"


def answer_key(job_id: str, created_at: datetime, miner_hotkey: str) -> str:
    return f"{job_prefix(job_id, created_at)}{miner_hotkey}.json"
