"""What a miner's grant lets it do, as enforced by a real S3 server (SeaweedFS)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from config import Settings
from tests.conftest import S3Server, Subnet
from tests.signing import miner_body


def grant_for(client: TestClient, subnet: Subnet, source: str = "x") -> dict[str, Any]:
    miner = subnet.miner
    response = client.post(
        "/get-folder-access", json=miner_body(miner.hotkey, miner.coldkey.ss58_address, source)
    )
    assert response.status_code == 200, response.text
    return response.json()


def upload(grant: dict[str, Any], key: str, size: int, fields: dict[str, str] | None = None):
    form = {**(fields if fields is not None else grant["fields"]), "key": key}
    return httpx2.post(
        grant["url"], data=form, files={"file": ("blob", b"\x01" * size)}, timeout=30
    )


def test_granted_form_uploads_into_own_folder(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    key = grant["folder"] + "sample.bin"

    response = upload(grant, key, 2048)

    assert response.status_code == 204
    assert seaweed.client.head_object(Bucket=bucket, Key=key)["ContentLength"] == 2048


def test_granted_form_uploads_nested_paths(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    key = grant["folder"] + "label/2025-01-01/f.parquet"

    assert upload(grant, key, 2048).status_code == 204
    assert seaweed.keys(bucket) == [key]


def test_form_refuses_another_miners_folder(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    foreign = f"data/x/{subnet.other_miner.coldkey.ss58_address}/planted.bin"

    response = upload(grant, foreign, 2048)

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []


def test_form_refuses_key_that_only_shares_the_coldkey_prefix(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    # Without the trailing slash a coldkey would also cover `<coldkey>-evil/`.
    sibling = grant["folder"].rstrip("/") + "-evil/file.bin"

    assert upload(grant, sibling, 2048).status_code == 403
    assert seaweed.keys(bucket) == []


def test_form_refuses_another_source(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet, source="x")
    elsewhere = f"data/reddit/{subnet.miner.coldkey.ss58_address}/file.bin"

    assert upload(grant, elsewhere, 2048).status_code == 403
    assert seaweed.keys(bucket) == []


def test_form_refuses_file_under_one_kib(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)

    response = upload(grant, grant["folder"] + "tiny.bin", 1023)

    assert 400 <= response.status_code < 500
    assert seaweed.keys(bucket) == []


def test_form_accepts_exactly_one_kib(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)

    assert upload(grant, grant["folder"] + "floor.bin", 1024).status_code == 204


def test_form_with_widened_policy_is_refused(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    for condition in policy["conditions"]:
        if isinstance(condition, list) and condition[0] == "starts-with":
            condition[2] = "data/"
    forged = dict(grant["fields"], policy=base64.b64encode(json.dumps(policy).encode()).decode())
    foreign = f"data/x/{subnet.other_miner.coldkey.ss58_address}/planted.bin"

    response = upload(grant, foreign, 2048, fields=forged)

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []


def test_form_with_altered_signature_is_refused(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    signature = grant["fields"]["x-amz-signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    forged = dict(grant["fields"], **{"x-amz-signature": flipped})

    response = upload(grant, grant["folder"] + "file.bin", 2048, fields=forged)

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []


def test_expired_form_is_refused(
    s3_settings: Settings, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    with TestClient(create_app(s3_settings)) as client:
        miner = subnet.miner
        body = miner_body(miner.hotkey, miner.coldkey.ss58_address, expiry=int(time.time()) + 2)
        response = client.post("/get-folder-access", json=body)
        assert response.status_code == 200, response.text
        grant = response.json()
    assert grant["expiry_seconds"] <= 2

    time.sleep(grant["expiry_seconds"] + 1.5)
    response = upload(grant, grant["folder"] + "late.bin", 2048)

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []


def test_list_url_lists_the_folder(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    assert upload(grant, grant["folder"] + "a.bin", 2048).status_code == 204

    response = httpx2.get(grant["list_url"], timeout=30)

    assert response.status_code == 200
    assert f"<Key>{grant['folder']}a.bin</Key>" in response.text


def test_altered_list_url_is_refused(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = grant_for(s3_client, subnet)
    other = subnet.other_miner.coldkey.ss58_address
    altered = grant["list_url"].replace(subnet.miner.coldkey.ss58_address, other)
    assert altered != grant["list_url"]

    assert httpx2.get(altered, timeout=30).status_code == 403


@pytest.mark.parametrize("claimed", ["other_miner", "validator"])
def test_claimed_foreign_coldkey_grants_nothing_uploadable(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str, claimed: str
) -> None:
    victim = getattr(subnet, claimed).coldkey.ss58_address
    attacker = subnet.miner

    response = s3_client.post("/get-folder-access", json=miner_body(attacker.hotkey, victim))
    assert response.status_code == 403
    assert response.json()["code"] == "coldkey_mismatch"

    # Whatever the service did hand out (the attacker's own grant) cannot reach the victim.
    own = grant_for(s3_client, subnet)
    assert upload(own, f"data/x/{victim}/planted.bin", 2048).status_code == 403
    assert seaweed.keys(bucket, f"data/x/{victim}/") == []
