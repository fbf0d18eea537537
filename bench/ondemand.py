"""The on-demand rows' world: a database, 500 open jobs, a miner with 1,000 submissions in
a validator's window, and a second replica to time a new job's way to its miners.

The signed requests themselves come from `bench.tao` recipes (one nonce each).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
from bittensor.sp_core import Keypair

from bench.subnet import Neuron

# As many as one customer key may hold open (ONDEMAND_MAX_OPEN_JOBS_PER_KEY's default).
ACTIVE_JOBS = 500
WINDOW_SUBMISSIONS = 1000
CUSTOMER_KEY = "bench-customer-" + secrets.token_hex(4)
# The propagation rounds create their jobs with a key of their own: the first is full.
PROPAGATION_KEY = "bench-propagation-" + secrets.token_hex(4)
IDLE_SECONDS = 10.0
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def bench_database(work: Path, label: str = "bench") -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database on 127.0.0.1:5432 (dropped after), else a SQLite file."""
    import asyncpg

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=3)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    name = f"s3auth_bench_{secrets.token_hex(4)}"
    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"bench: no PostgreSQL at 127.0.0.1:5432 ({exc}); on-demand rows use SQLite")
        yield f"sqlite+aiosqlite:///{work / f'{label}.sqlite3'}", "SQLite"
        return
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", "PostgreSQL"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _seed_window(url: str, miner: str, count: int) -> None:
    from app.db import Database
    from app.db.migrate import upgrade
    from app.ondemand.models import Job, Submission

    now = datetime.now(UTC)
    db = Database(url)
    try:
        await upgrade(db)
        async with db.session(deadline=120) as session:
            for i in range(count):
                created = now - timedelta(hours=2) + timedelta(seconds=5 * i)
                job = Job(
                    id=str(uuid.uuid4()),
                    platform=("x", "reddit")[i % 2],
                    payload={
                        "platform": "x",
                        "keywords": [f"kw{i}"],
                        "usernames": None,
                        "url": None,
                    },
                    start_date=None,
                    end_date=None,
                    limit=100,
                    keyword_mode="any",
                    created_at=created,
                    expire_at=created + timedelta(minutes=2),
                    settled_at=created + timedelta(minutes=3),
                )
                session.add(job)
                await session.flush()
                session.add(
                    Submission(
                        job_id=job.id,
                        job_expire_at=job.expire_at,
                        miner_hotkey=miner,
                        miner_incentive=0.01,
                        submitted_at=created + timedelta(seconds=20),
                        s3_path=f"on-demand-jobs/date=x/hour=00/job_id={job.id}/{miner}.json",
                        s3_content_length=4096,
                        s3_etag=hashlib.md5(job.id.encode()).hexdigest(),
                        s3_last_modified=created + timedelta(seconds=25),
                    )
                )
    finally:
        await db.close()


def seed_window(url: str, miner: str, count: int = WINDOW_SUBMISSIONS) -> None:
    """`count` expired jobs in the last 2 h, each answered (and recorded) by `miner`."""
    asyncio.run(_seed_window(url, miner, count))


def create_active_jobs(base_url: str, count: int = ACTIVE_JOBS) -> None:
    with httpx2.Client(timeout=10) as http:
        for i in range(count):
            answer = http.post(
                f"{base_url}/on-demand/constellation/jobs",
                json={
                    "job": {
                        "job": {"platform": "x", "keywords": [f"#k{i}"]},
                        "expire_at": (datetime.now(UTC) + timedelta(minutes=30)).isoformat(),
                    }
                },
                headers={"X-API-Key": CUSTOMER_KEY},
            )
            answer.raise_for_status()


def active_body() -> bytes:
    since = datetime.now(UTC) - timedelta(minutes=2)
    return json.dumps({"since": since.isoformat()}, separators=(",", ":")).encode()


def _signed_poll(signer: Keypair) -> tuple[bytes, dict[str, str]]:
    from s3auth_client.tao import tao_message

    body = active_body()
    nonce, ts = str(uuid.uuid4()), str(int(time.time() * 1000))
    signature = base64.b64encode(bytes(signer.sign(tao_message(body, nonce, ts)))).decode()
    headers = {
        "X-Tao-Version": "2",
        "X-Tao-Timestamp": ts,
        "X-Tao-Nonce": nonce,
        "X-Tao-Signed-By": signer.ss58_address,
        "X-Tao-Signature": signature,
    }
    return body, headers


def propagation_seconds(
    creator_url: str, poller_url: str, miner: Neuron, rounds: int = 10
) -> list[float]:
    """Seconds from a job's creation on one replica until the other's miners are shown it."""
    signer = Keypair.create_from_uri(miner.hotkey_uri)
    seen = []
    with httpx2.Client(timeout=10) as http:
        for _ in range(rounds):
            created = http.post(
                f"{creator_url}/on-demand/constellation/jobs",
                json={"job": {"job": {"platform": "reddit", "subreddit": "r/bench"}}},
                headers={"X-API-Key": PROPAGATION_KEY},
            )
            created.raise_for_status()
            started = time.monotonic()
            job_id = created.json()["job_id"]
            while True:
                body, headers = _signed_poll(signer)
                answer = http.post(
                    f"{poller_url}/on-demand/miner/jobs/active", content=body, headers=headers
                )
                if job_id.encode() in answer.content:
                    break
                if time.monotonic() - started > 10:
                    raise RuntimeError("a new job did not reach the other replica in 10 s")
                time.sleep(0.01)
            seen.append(time.monotonic() - started)
            time.sleep(0.3)  # land at a different point of the refresh period each round
    return seen


def idle_cpu_percent(cpu_seconds: Callable[[], float], seconds: float = IDLE_SECONDS) -> float:
    """Share of one core a replica uses while nobody calls it (its background work only)."""
    before, started = cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds() - before) / (time.monotonic() - started)
