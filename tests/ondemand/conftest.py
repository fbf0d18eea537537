"""An app with a database (SQLite and PostgreSQL) and a real bucket, and helpers to read it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from bittensor.sp_core import Keypair
from fastapi.testclient import TestClient

from app.main import create_app
from app.ondemand.models import Job
from config import Settings
from tests.app_state import on_app_loop, services_of
from tests.conftest import S3Server, SettingsFactory
from tests.signing import compact, tao_headers

CUSTOMER_KEY = "customer-key-1"
CUSTOMER = {"X-API-Key": CUSTOMER_KEY}


def settings_for(
    make_settings: SettingsFactory, database_url: str, seaweed: S3Server, bucket: str
) -> Settings:
    return make_settings(
        database_url=database_url,
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        constellation_api_keys=f"{CUSTOMER_KEY},customer-key-2",
        ondemand_max_bytes=1000,
        rate_limit_ondemand_poll="",
        rate_limit_ondemand_failures="2/minute",
    )


@pytest.fixture
def od_settings(
    make_settings: SettingsFactory, database_url: str, seaweed: S3Server, bucket: str
) -> Settings:
    """On-demand settings on each database backend, a fresh bucket and customer keys."""
    return settings_for(make_settings, database_url, seaweed, bucket)


@pytest.fixture
def od_client(od_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(od_settings)) as client:
        yield client


def job_body(**spec: Any) -> dict[str, Any]:
    spec.setdefault("job", {"platform": "x", "keywords": ["#bittensor"]})
    return {"job": spec}


def create_job(client: TestClient, **spec: Any) -> str:
    answer = client.post("/on-demand/constellation/jobs", json=job_body(**spec), headers=CUSTOMER)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["job_id"])


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def answer_upload(form_url: str, fields: dict[str, str], body: bytes) -> int:
    """Uploads an answer as deployed miners do (fields, then `file`); returns S3's status."""
    import httpx2

    content_type = fields.get("Content-Type", "application/json")
    response = httpx2.post(
        form_url, data=fields, files={"file": ("data.json", body, content_type)}, timeout=30
    )
    return response.status_code


def job_row(client: TestClient, job_id: str) -> Job:
    async def read() -> Job:
        async with services_of(client).db.session() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            return job

    return on_app_loop(client, read)  # type: ignore[no-any-return]


def signed_post(
    client: TestClient, path: str, signer: Keypair, body: dict[str, Any]
) -> httpx2.Response:
    """A POST signed with Tao v2 headers, as today's miners and validators send it."""
    raw = compact(body)
    return client.post(path, content=raw, headers=tao_headers(signer, raw))


def insert_job(client: TestClient, **values: Any) -> str:
    """A job row written directly, for states the API does not create (nearly expired...)."""
    now = datetime.now(UTC)
    job = Job(
        id=str(uuid.uuid4()),
        platform=values.pop("platform", "x"),
        payload=values.pop(
            "payload", {"platform": "x", "keywords": ["a"], "usernames": None, "url": None}
        ),
        start_date=None,
        end_date=None,
        limit=100,
        keyword_mode="any",
        created_at=values.pop("created_at", now),
        expire_at=values.pop("expire_at", now + timedelta(minutes=2)),
        **values,
    )

    async def write() -> None:
        services = services_of(client)
        async with services.db.session() as session:
            session.add(job)
        await services.ondemand.active.reload()

    on_app_loop(client, write)
    return job.id
