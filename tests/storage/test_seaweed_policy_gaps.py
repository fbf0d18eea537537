"""What SeaweedFS stores beyond a POST policy's conditions (the README's security model).

AWS refuses a form field no condition covers; SeaweedFS stores it. These tests pin that
behaviour so the README's list stays true: if one starts failing, SeaweedFS closed the
gap and the README should say so.
"""

from __future__ import annotations

import gzip
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.conftest import S3Server, Subnet
from tests.signing import miner_body


def grant(client: TestClient, subnet: Subnet) -> dict[str, Any]:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    response = client.post("/get-folder-access", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("field", "value", "stored_as"),
    [
        ("Content-Encoding", "gzip", "ContentEncoding"),
        ("Cache-Control", "max-age=31536000", "CacheControl"),
        ("Content-Disposition", "attachment; filename=x.exe", "ContentDisposition"),
    ],
)
def test_seaweedfs_stores_headers_the_policy_does_not_name(
    s3_client: TestClient,
    subnet: Subnet,
    seaweed: S3Server,
    bucket: str,
    field: str,
    value: str,
    stored_as: str,
) -> None:
    form = grant(s3_client, subnet)
    key = form["folder"] + f"extra-{stored_as}.bin"
    payload = gzip.compress(b"\0" * 100_000)  # ~100 bytes that inflate to 100 KB

    answer = httpx2.post(
        form["url"],
        data={**form["fields"], "key": key, field: value},
        files={"file": ("blob", payload + b"\1" * 1024)},
        timeout=30,
    )

    assert answer.status_code == 204
    assert seaweed.client.head_object(Bucket=bucket, Key=key).get(stored_as) == value
