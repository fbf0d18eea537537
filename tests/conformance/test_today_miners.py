"""Today's miners (Tao v2 headers, one upload URL per file), as SeaweedFS enforces them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from types import SimpleNamespace

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.auth import pipeline
from app.errors import RateLimited
from app.main import create_app
from app.routes.no409 import without_409
from config import Settings
from tests.conformance.wire import tao_post, upload_with_fields
from tests.conftest import S3Server, Subnet
from tests.signing import compact, tao_headers

JOB = "crawler-7-h4rptebsja6qbdmocrt98"


def filename(rows: int = 1520) -> str:
    return f"data_20260805_141502_{rows}_{secrets.token_hex(8)}.parquet"


def ask(client: TestClient, subnet: Subnet, name: str, job_id: str = JOB, **kw) -> httpx2.Response:
    return tao_post(
        client,
        subnet.miner.hotkey,
        "/get-file-upload-url",
        {"job_id": job_id, "filename": name},
        **kw,
    )


@pytest.mark.parametrize(
    ("style", "content_type"), [("compact", True), ("compact", False), ("spaced", True)]
)
def test_post_form_uploads_exactly_the_pinned_key(
    service: TestClient,
    subnet: Subnet,
    seaweed: S3Server,
    bucket: str,
    style: str,
    content_type: bool,
) -> None:
    name = filename()
    response = ask(service, subnet, name, style=style, content_type=content_type)
    assert response.status_code == 200, response.text
    grant = response.json()
    expected = f"data/hotkey={subnet.miner.hotkey.ss58_address}/job_id={JOB}/{name}"

    uploaded = upload_with_fields(grant["url"], grant["fields"], b"\x01" * 2048)

    assert grant["method"] == "POST" and grant["s3_key"] == expected
    assert grant["fields"]["key"] == expected
    assert all(isinstance(v, str) for v in grant["fields"].values())
    assert isinstance(grant["expires_in_seconds"], int)
    assert 200 <= uploaded.status_code < 300
    assert seaweed.keys(bucket) == [expected]


def test_second_request_for_an_uploaded_file_is_409(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    name = filename()
    grant = ask(service, subnet, name).json()
    assert upload_with_fields(grant["url"], grant["fields"], b"\x01" * 64).status_code == 204

    again = ask(service, subnet, name)

    assert again.status_code == 409
    assert again.json()["code"] == "already_exists"


def test_form_refuses_a_key_other_than_the_pinned_one(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = ask(service, subnet, filename()).json()
    other = grant["s3_key"].replace(".parquet", "-other.parquet")

    response = upload_with_fields(grant["url"], {**grant["fields"], "key": other}, b"\x01" * 64)

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []


def test_form_refuses_another_miners_hotkey_folder(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = ask(service, subnet, filename()).json()
    victim = grant["s3_key"].replace(
        subnet.miner.hotkey.ss58_address, subnet.other_miner.hotkey.ss58_address
    )

    response = upload_with_fields(grant["url"], {**grant["fields"], "key": victim}, b"\x01" * 64)

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []


@pytest.mark.parametrize("size", [8, 64 * 1024 + 1])
def test_form_refuses_sizes_outside_the_range(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str, size: int
) -> None:
    grant = ask(service, subnet, filename()).json()

    response = upload_with_fields(grant["url"], grant["fields"], b"\x01" * size)

    assert response.status_code == 400
    assert seaweed.keys(bucket) == []


def test_key_comes_from_the_signer_never_the_body(service: TestClient, subnet: Subnet) -> None:
    victim = subnet.other_miner.hotkey.ss58_address
    response = tao_post(
        service,
        subnet.miner.hotkey,
        "/get-file-upload-url",
        {"job_id": JOB, "filename": filename(), "miner_hotkey": victim},
    )

    assert response.status_code == 200
    assert victim not in response.json()["s3_key"]


@pytest.mark.parametrize(
    ("job_id", "name", "code"),
    [
        ("a/b", filename(), "invalid_job_id"),
        ("..", filename(), "invalid_job_id"),
        ("x" * 129, filename(), "invalid_job_id"),
        (JOB, "data_20260805_141502_12_ABCDEF0123456789.parquet", "invalid_filename"),
        (JOB, "../data_20260805_141502_12_abcdef0123456789.parquet", "invalid_filename"),
        (JOB, "notes.txt", "invalid_filename"),
    ],
)
def test_bad_names_are_400_and_never_echoed(
    service: TestClient, subnet: Subnet, job_id: str, name: str, code: str
) -> None:
    response = ask(service, subnet, name, job_id=job_id)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert name not in response.text


def test_a_stale_refusal_never_contains_409_even_when_the_server_time_does(
    client: TestClient, subnet: Subnet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Miners read "409" anywhere in an error as "already exists" and delete the file.
    monkeypatch.setattr(pipeline, "time", SimpleNamespace(time=lambda: 1785409000.5))
    raw = compact({"job_id": JOB, "filename": filename()})
    headers = tao_headers(subnet.miner.hotkey, raw, timestamp_ms=1785000000000)

    response = client.post("/get-file-upload-url", content=raw, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "stale_timestamp"
    assert "409" not in response.text


def test_retry_times_and_details_with_409_are_elided() -> None:
    error = without_409(RateLimited("Retry in 409 s.", retry_after=409, limit="miner"))

    assert "409" not in error.detail
    assert "retry_after" not in error.extra


def test_unregistered_hotkey_is_401(service: TestClient, subnet: Subnet) -> None:
    response = tao_post(
        service, subnet.outsider, "/get-file-upload-url", {"job_id": JOB, "filename": filename()}
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_registered"


@pytest.fixture
def put_service(today_settings: Settings) -> Iterator[TestClient]:
    settings = today_settings.model_copy(update={"upload_method": "put"})
    with TestClient(create_app(settings)) as client:
        yield client


def test_put_mode_url_takes_the_file_with_octet_stream(
    put_service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = ask(put_service, subnet, filename()).json()

    response = httpx2.put(
        grant["url"],
        content=b"\x02" * 300,
        headers={"Content-Type": "application/octet-stream"},
        timeout=30,
    )

    assert grant["method"] == "PUT" and grant["fields"] == {}
    assert response.status_code == 200
    assert seaweed.keys(bucket) == [grant["s3_key"]]


def test_put_url_reused_for_another_key_is_refused(
    put_service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = ask(put_service, subnet, filename()).json()
    other_url = grant["url"].replace(".parquet?", "-x.parquet?")

    response = httpx2.put(other_url, content=b"\x02" * 300, timeout=30)

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []
