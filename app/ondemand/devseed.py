"""Development data for `s3auth dev`: a customer key and a few jobs, one already answered."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from botocore.client import BaseClient

from app.db import Database
from app.db.migrate import upgrade
from app.ondemand.models import Job, Submission
from app.storage.layout import ondemand_answer_key
from config import Settings

SAMPLE_ANSWER = {
    "data_entities": [
        {
            "uri": "https://x.com/opentensor/status/1",
            "datetime": "2026-01-01T00:00:00+00:00",
            "source": 2,
            "label": "#bittensor",
            "content": '{"text": "a sample post"}',
            "content_size_bytes": 24,
        }
    ]
}


def load_customer_key(data_dir: Path) -> str:
    """A customer API key made once per data dir, so it survives restarts."""
    path = data_dir / "customer-api-key"
    if path.exists():
        return path.read_text().strip()
    key = "dev-customer-" + secrets.token_urlsafe(16)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _job(platform: str, payload: dict[str, object], created: datetime, life: timedelta) -> Job:
    return Job(
        id=str(uuid.uuid4()),
        platform=platform,
        payload={"platform": platform, "usernames": None, "keywords": None, **payload},
        start_date=None,
        end_date=None,
        limit=100,
        keyword_mode="any",
        created_at=created,
        expire_at=created + life,
    )


async def seed_jobs(settings: Settings, s3: BaseClient, miner_hotkey: str) -> str:
    """Two open jobs for miners, and an expired one the miner answered, for validators.

    Returns the id of the open x job, which stays open for a day so the banner's command
    that answers it still works long after the start.
    """
    now = datetime.now(UTC)
    x_job = _job("x", {"keywords": ["#bittensor"], "url": None}, now, timedelta(days=1))
    reddit = _job("reddit", {"subreddit": "r/bittensor_"}, now, timedelta(minutes=10))
    answered = _job(
        "x",
        {"usernames": ["opentensor"], "url": None},
        now - timedelta(minutes=10),
        timedelta(minutes=2),
    )
    body = json.dumps(SAMPLE_ANSWER).encode()
    key = ondemand_answer_key(answered.id, answered.created_at, miner_hotkey)
    s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=body, ContentType="application/json")
    answered.settled_at = now
    submission = Submission(
        job_id=answered.id,
        job_expire_at=answered.expire_at,
        miner_hotkey=miner_hotkey,
        miner_incentive=0.0,
        submitted_at=answered.created_at + timedelta(seconds=20),
        s3_path=key,
        s3_content_length=len(body),
        s3_etag=hashlib.md5(body).hexdigest(),
        s3_last_modified=now,
    )
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        async with db.session(deadline=30) as session:
            session.add_all([x_job, reddit, answered])
            await session.flush()
            session.add(submission)
    finally:
        await db.close()
    return x_job.id
