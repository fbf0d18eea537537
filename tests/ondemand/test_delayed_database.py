"""With PostgreSQL's replies late, every answer tells the truth about what was stored.

The database sits behind a TCP proxy that delays each reply by 0-150 ms and, now and
then, holds every open connection's replies for longer than COMMIT's bound. Customers
retry a 503 until they get 201, miners until they get a form, as deployed clients do.
Afterwards: one job row per 201 (a 503 created nothing), every (job, miner) pair got a
form (none stuck on 409), and one submission row per pair.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.db.outcome import COMMIT_SECONDS
from app.main import create_app
from app.ondemand.models import Job, Submission
from tests.app_state import count_rows
from tests.conftest import S3Server, SettingsFactory, Subnet
from tests.database import empty_postgres_tables
from tests.ondemand.conftest import CUSTOMER, job_body, settings_for, signed_post
from tests.tcp_proxy import ThreadedProxy

JOBS = 8
ATTEMPTS = 40
HOLD_SECONDS = COMMIT_SECONDS + 0.4
SUBMIT = "/on-demand/miner/jobs/submit"


@pytest.fixture
def proxy() -> Iterator[ThreadedProxy]:
    proxy = ThreadedProxy("127.0.0.1", 5432)
    proxy.start()
    yield proxy
    proxy.close()


@pytest.fixture
def delayed_client(
    make_settings: SettingsFactory,
    postgres_database: str,
    seaweed: S3Server,
    bucket: str,
    proxy: ThreadedProxy,
) -> Iterator[TestClient]:
    empty_postgres_tables(postgres_database)
    netloc = urlsplit(postgres_database).netloc
    proxied = postgres_database.replace(netloc, f"postgres@127.0.0.1:{proxy.port}")
    settings = settings_for(make_settings, proxied, seaweed, bucket)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        rng = random.Random(18)
        proxy.proxy.reply_delay = lambda: rng.uniform(0.0, 0.15)
        yield client
        proxy.proxy.reply_delay = None


def hold_now_and_then(proxy: ThreadedProxy, stop: threading.Event) -> None:
    """Every few seconds, the replies of every open connection stop past COMMIT's bound."""
    while not stop.wait(1.5):
        proxy.hold()
        stop.wait(HOLD_SECONDS)
        proxy.release()


def test_no_answer_is_lost_and_no_503_wrote_anything(
    delayed_client: TestClient, subnet: Subnet, proxy: ThreadedProxy
) -> None:
    stop = threading.Event()
    holder = threading.Thread(target=hold_now_and_then, args=(proxy, stop), daemon=True)
    holder.start()
    created: list[str] = []

    def create(_: int) -> None:
        for _ in range(ATTEMPTS):
            answer = delayed_client.post(
                "/on-demand/constellation/jobs", json=job_body(), headers=CUSTOMER
            )
            if answer.status_code == 201:
                created.append(answer.json()["job_id"])
                return
            assert answer.status_code == 503, answer.text

    forms: dict[tuple[str, str], str] = {}

    def submit(pair: tuple[str, str]) -> None:
        job_id, who = pair
        signer = subnet.miner if who == "miner" else subnet.other_miner
        for _ in range(ATTEMPTS):
            answer = signed_post(
                delayed_client, SUBMIT, signer.hotkey, {"submission": {"job_id": job_id}}
            )
            if answer.status_code == 200:
                forms[pair] = answer.json()["presigned_post_upload_data"]["fields"]["key"]
                return
            # 409 here would be a pair stuck without a form: its answer never landed.
            assert answer.status_code == 503, answer.text

    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(create, range(JOBS)))
            pairs = [(job_id, who) for job_id in created for who in ("miner", "other")]
            list(pool.map(submit, pairs))
    finally:
        stop.set()
        holder.join()
        proxy.release()
        proxy.proxy.reply_delay = None

    assert len(created) == JOBS
    assert count_rows(delayed_client, Job) == JOBS
    assert sorted(forms) == sorted(pairs)
    assert count_rows(delayed_client, Submission) == len(pairs)
    # A repeat before the answer landed: the same key's form again, not 409.
    job_id = pairs[0][0]
    again = signed_post(
        delayed_client, SUBMIT, subnet.miner.hotkey, {"submission": {"job_id": job_id}}
    )
    assert again.status_code == 200
    assert again.json()["presigned_post_upload_data"]["fields"]["key"] == forms[(job_id, "miner")]
