"""Two addresses of one S3 (CONTRACT §6.2): URLs name the public one, the service calls the
other; and a missing bucket is named as such on every S3-bound route."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.storage import bucket as bucket_module
from config import Settings
from tests.conformance.wire import tao_post, upload_with_fields
from tests.conftest import S3Server, SettingsFactory, Subnet
from tests.signing import btauth_request, validator_body

JOB = "crawler-7-h4rptebsja6qbdmocrt98"


def filename() -> str:
    return f"data_20260805_141502_12_{secrets.token_hex(8)}.parquet"


def settings_for(
    make_settings: SettingsFactory, seaweed: S3Server, subnet: Subnet, bucket: str, **extra: str
) -> Settings:
    return make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        trusted_validators=str(subnet.validator.uid),
        upload_min_bytes=16,
        **extra,
    )


def ask_upload(client: TestClient, subnet: Subnet, name: str) -> httpx2.Response:
    body = {"job_id": JOB, "filename": name}
    return tao_post(client, subnet.miner.hotkey, "/get-file-upload-url", body)


def test_forms_name_the_public_address_and_upload_through_it(
    make_settings: SettingsFactory, seaweed: S3Server, subnet: Subnet, bucket: str
) -> None:
    internal = urlsplit(seaweed.endpoint_url)
    public = f"http://localhost:{internal.port}"
    assert internal.hostname == "127.0.0.1"
    settings = settings_for(make_settings, seaweed, subnet, bucket, s3_public_url=public)
    name = filename()
    with TestClient(create_app(settings)) as client:
        grant = ask_upload(client, subnet, name).json()
        uploaded = upload_with_fields(grant["url"], grant["fields"], b"\x01" * 64)
        again = ask_upload(client, subnet, name)
        bundle = client.post("/get-validator-access", json=validator_body(subnet.validator.hotkey))

    assert grant["url"].startswith(public + "/")
    assert uploaded.status_code in (200, 204), uploaded.text
    # The service saw the upload through its own address: the second ask is refused.
    assert again.status_code == 409 and again.json()["code"] == "already_exists"
    urls = bundle.json()["urls"]
    assert urls["sources"]["x"]["list_miners"].startswith(public + "/")
    listing = httpx2.get(urls["sources"]["x"]["list_miners"])
    assert listing.status_code == 200, listing.text


def test_service_calls_its_own_address_while_the_public_one_is_unreachable(
    make_settings: SettingsFactory, seaweed: S3Server, subnet: Subnet, bucket: str
) -> None:
    # Nothing listens on port 9: every call the service made there would fail.
    settings = settings_for(
        make_settings, seaweed, subnet, bucket, s3_public_url="http://127.0.0.1:9"
    )
    taken = filename()
    key = f"data/hotkey={subnet.miner.hotkey.ss58_address}/job_id={JOB}/{taken}"
    seaweed.client.put_object(Bucket=bucket, Key=key, Body=b"\x01" * 64)
    coldkey = subnet.miner.coldkey.ss58_address
    seaweed.client.put_object(Bucket=bucket, Key=f"data/x/{coldkey}/a.bin", Body=b"\x01")
    with TestClient(create_app(settings)) as client:
        fresh = ask_upload(client, subnet, filename())
        existing = ask_upload(client, subnet, taken)
        raw, headers = btauth_request(
            subnet.validator.hotkey, "/list-files", {"source": "x", "coldkey": coldkey}
        )
        listed = client.post("/list-files", content=raw, headers=headers)

    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["url"].startswith("http://127.0.0.1:9/")
    assert existing.status_code == 409
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["files"]
    assert entry["key"] == f"data/x/{coldkey}/a.bin"
    assert entry["url"].startswith("http://127.0.0.1:9/")


def test_public_address_defaults_to_the_endpoint() -> None:
    settings = Settings(_env_file=None, s3_endpoint_url="http://s3:9000/")  # type: ignore[call-arg]

    assert settings.presign_endpoint_url == "http://s3:9000"


def test_missing_bucket_is_bucket_missing_on_s3_bound_routes_and_logged_once(
    make_settings: SettingsFactory,
    seaweed: S3Server,
    subnet: Subnet,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = f"missing-{secrets.token_hex(6)}"
    settings = settings_for(
        make_settings, seaweed, subnet, gone, constellation_api_keys="customer-key-1"
    )
    coldkey = subnet.miner.coldkey.ss58_address
    bucket_module._last_logged.clear()
    caplog.set_level(logging.INFO)
    with TestClient(create_app(settings)) as client:
        uploads = [ask_upload(client, subnet, filename()) for _ in range(3)]
        raw, headers = btauth_request(
            subnet.validator.hotkey, "/list-files", {"source": "x", "coldkey": coldkey}
        )
        listed = client.post("/list-files", content=raw, headers=headers)
        bundle = client.post("/get-validator-access", json=validator_body(subnet.validator.hotkey))
        customer = {"X-API-Key": "customer-key-1"}
        spec = {"job": {"job": {"platform": "x", "keywords": ["#bittensor"]}}}
        job_id = client.post("/on-demand/constellation/jobs", json=spec, headers=customer).json()
        submission = {
            "job_id": job_id["job_id"],
            "miner_hotkey": subnet.miner.hotkey.ss58_address,
            "miner_uid": subnet.miner.uid,
            "s3_path": "",
        }
        submitted = tao_post(
            client, subnet.miner.hotkey, "/on-demand/miner/jobs/submit", {"submission": submission}
        )
        assert submitted.status_code == 200, submitted.text
        answers = client.get(f"/on-demand/constellation/jobs/{job_id['job_id']}", headers=customer)

    for answer in (*uploads, listed, bundle, answers):
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "bucket_missing"
    said = [r for r in caplog.records if "does not exist" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.ERROR
