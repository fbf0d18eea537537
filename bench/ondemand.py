"""Inputs of the on-demand rows: a database, 50 open jobs, a 1,000-submission window, and
distinct Tao v2 signed requests.

Each request line is `timestamp<TAB>nonce<TAB>hotkey<TAB>signature<TAB>body`; the Lua script
turns it into the X-Tao-* headers, so every request carries its own nonce and replay
protection refuses none.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
from bittensor.sp_core import Keypair

from bench.subnet import Neuron

ACTIVE_JOBS = 50
WINDOW_SUBMISSIONS = 1000
CUSTOMER_KEY = "bench-customer-" + secrets.token_hex(4)
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def bench_database(work: Path) -> Iterator[tuple[str, str]]:
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
        yield f"sqlite+aiosqlite:///{work / 'bench.sqlite3'}", "SQLite"
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


def miner_jobs_body(miner: str) -> bytes:
    now = datetime.now(UTC)
    body = {
        "miner_hotkey": miner,
        "expired_since": (now - timedelta(hours=3)).isoformat(),
        "expired_until": (now + timedelta(hours=1)).isoformat(),
        "limit": 1000,
    }
    return json.dumps(body, separators=(",", ":")).encode()


_keypairs: dict[str, Keypair] = {}


def _sign_chunk(job: tuple[list[str], bytes, int, int]) -> list[bytes]:
    from app.auth.tao import tao_message

    uris, body, count, timestamp_ms = job
    lines = []
    for i in range(count):
        uri = uris[i % len(uris)]
        keypair = _keypairs.get(uri)
        if keypair is None:
            keypair = _keypairs[uri] = Keypair.create_from_uri(uri)
        nonce = str(uuid.uuid4())
        ts = str(timestamp_ms)
        signature = base64.b64encode(bytes(keypair.sign(tao_message(body, nonce, ts)))).decode()
        lines.append(
            "\t".join((ts, nonce, keypair.ss58_address, signature)).encode() + b"\t" + body
        )
    return lines


def tao_lines(signers: list[Neuron], body: bytes, count: int) -> list[bytes]:
    """`count` Tao v2 requests of `body`, each with its own nonce, spread over `signers`."""
    uris = [n.hotkey_uri for n in signers]
    timestamp_ms = int(time.time() * 1000)
    workers = max(1, min(os.cpu_count() or 1, 8))
    per = -(-count // workers)
    jobs = [(uris, body, min(per, count - i * per), timestamp_ms) for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        return [
            line for lines in pool.map(_sign_chunk, [j for j in jobs if j[2] > 0]) for line in lines
        ]


def _signed_poll(signer: Keypair) -> tuple[bytes, dict[str, str]]:
    from app.auth.tao import tao_message

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
                headers={"X-API-Key": CUSTOMER_KEY},
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
