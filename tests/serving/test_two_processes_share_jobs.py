"""Two `s3auth serve` processes on one PostgreSQL database are one on-demand service."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2

from app.seaweed import free_ports
from bench.server import ServiceProcess
from tests.conftest import Subnet
from tests.database import fresh_postgres_database
from tests.serving.conftest import REPO, service_env
from tests.signing import compact, tao_headers

CUSTOMER_KEY = "two-process-customer"
ACTIVE = "/on-demand/miner/jobs/active"
# Generous: the figure (about 0.1 s) is measured by `make bench`, not asserted here.
PATIENCE_SECONDS = 15.0


def active_job_ids(service: ServiceProcess, subnet: Subnet) -> set[str]:
    since = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    raw = compact({"since": since})
    answer = httpx2.post(
        service.base_url + ACTIVE,
        content=raw,
        headers=tao_headers(subnet.miner.hotkey, raw),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {job["id"] for job in answer.json()["jobs"]}


def test_a_job_created_on_one_process_reaches_the_others_miners(
    tmp_path: Path, subnet: Subnet
) -> None:
    metagraph = tmp_path / "metagraph.json"
    metagraph.write_text(json.dumps(subnet.metagraph()))
    with fresh_postgres_database() as database_url:
        env = service_env(
            metagraph,
            DATABASE_URL=database_url,
            CONSTELLATION_API_KEYS=CUSTOMER_KEY,
            RATE_LIMIT_ONDEMAND_POLL="",
        )
        first_port, second_port = free_ports(2)
        first = ServiceProcess(
            env, port=first_port, source_dir=REPO, log_path=tmp_path / "first.log"
        )
        second = ServiceProcess(
            env, port=second_port, source_dir=REPO, log_path=tmp_path / "second.log"
        )
        with first, second:
            created = httpx2.post(
                first.base_url + "/on-demand/constellation/jobs",
                json={"job": {"job": {"platform": "reddit", "subreddit": "r/bittensor"}}},
                headers={"X-API-Key": CUSTOMER_KEY},
                timeout=10,
            )
            assert created.status_code == 201, created.text
            job_id = created.json()["job_id"]

            deadline = time.monotonic() + PATIENCE_SECONDS
            seen = active_job_ids(second, subnet)
            while job_id not in seen and time.monotonic() < deadline:
                time.sleep(0.05)
                seen = active_job_ids(second, subnet)

            assert job_id in seen
            assert job_id in active_job_ids(first, subnet)
