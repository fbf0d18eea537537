"""Today's scoring validator: per-miner listings and file URLs, read as it reads them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.conformance.wire import read_list_page, tao_post
from tests.conftest import S3Server, Subnet
from tests.routes.test_validator_access_on_s3 import put_objects


def miner_keys(subnet: Subnet, count: int, job: str = "job-1") -> list[str]:
    folder = f"data/hotkey={subnet.miner.hotkey.ss58_address}/job_id={job}/"
    return [f"{folder}data_20260805_141502_{i + 1}_{i:016x}.parquet" for i in range(count)]


def miner_list(client: TestClient, subnet: Subnet, token: str | None = None) -> httpx2.Response:
    body = {"miner_hotkey": subnet.miner.hotkey.ss58_address}
    if token:
        body["continuation_token"] = token
    return tao_post(client, subnet.validator.hotkey, "/get-miner-list", body, style="spaced")


def test_miner_list_pages_through_every_file(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    keys = miner_keys(subnet, 1005)
    put_objects(seaweed, bucket, keys)
    put_objects(
        seaweed, bucket, [f"data/hotkey={subnet.other_miner.hotkey.ss58_address}/x.parquet"]
    )

    seen: list[str] = []
    token = None
    for _ in range(5):
        response = miner_list(service, subnet, token)
        assert response.status_code == 200, response.text
        page = read_list_page(response.json()["list_url"], subnet.miner.hotkey.ss58_address)
        seen += [f.key for f in page.files]
        token = page.next_token
        if token is None:
            break

    assert sorted(seen) == sorted(keys)
    assert all(f.size == 1 for f in page.files)


def test_list_url_edited_to_another_prefix_is_refused_by_s3(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    url = miner_list(service, subnet).json()["list_url"]
    parts = urlsplit(url)
    query = [
        (k, f"data/hotkey={subnet.other_miner.hotkey.ss58_address}/" if k == "prefix" else v)
        for k, v in parse_qsl(parts.query)
    ]

    response = httpx2.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=30)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("who", "code"),
    [("poor_validator", "low_stake"), ("miner", "no_permit")],
)
def test_miner_list_refuses_non_validators(
    service: TestClient, subnet: Subnet, who: str, code: str
) -> None:
    signer = getattr(subnet, who).hotkey
    body = {"miner_hotkey": subnet.miner.hotkey.ss58_address}

    response = tao_post(service, signer, "/get-miner-list", body, style="spaced")

    assert response.status_code == 403
    assert response.json()["code"] == code


def test_untrusted_validator_is_403_not_trusted(make_settings, subnet: Subnet) -> None:
    from app.main import create_app

    with TestClient(create_app(make_settings(trusted_validators="89"))) as client:
        response = miner_list(client, subnet)

    assert response.status_code == 403
    assert response.json()["code"] == "not_trusted"


def file_urls(
    client: TestClient, subnet: Subnet, keys: list[str], path: str = "/get-file-presigned-urls"
):
    body = {
        "miner_hotkey": subnet.miner.hotkey.ss58_address,
        "file_keys": keys,
        "expiry_hours": 3,
    }
    return tao_post(client, subnet.validator.hotkey, path, body, style="spaced")


def test_file_urls_serve_full_and_range_reads(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    key = miner_keys(subnet, 1)[0]
    seaweed.client.put_object(Bucket=bucket, Key=key, Body=bytes(range(256)) * 4)

    response = file_urls(service, subnet, [key])
    url = response.json()["file_urls"][key]["presigned_url"]
    full = httpx2.get(url, timeout=30)
    ranged = httpx2.get(url, headers={"Range": "bytes=10-19"}, timeout=30)

    assert response.status_code == 200
    assert response.json()["file_urls"][key]["expires_in_seconds"] == 3 * 3600
    assert full.status_code == 200 and len(full.content) == 1024
    assert ranged.status_code == 206 and ranged.content == bytes(range(10, 20))


def test_doubled_slash_in_the_path_reaches_the_route(service: TestClient, subnet: Subnet) -> None:
    # A validator whose base URL ends in "/" asks for //get-file-presigned-urls.
    key = miner_keys(subnet, 1)[0]
    doubled = "http://testserver//get-file-presigned-urls"

    response = file_urls(service, subnet, [key], path=doubled)

    assert response.status_code == 200
    assert key in response.json()["file_urls"]


def test_keys_outside_the_miner_folder_are_listed_invalid_and_not_signed(
    service: TestClient, subnet: Subnet
) -> None:
    mine = miner_keys(subnet, 1)[0]
    other = f"data/hotkey={subnet.other_miner.hotkey.ss58_address}/job_id=j/f.parquet"
    backslash = mine.replace("/job_id=", "\\..\\job_id=")
    dotted = f"data/hotkey={subnet.miner.hotkey.ss58_address}/../x/f.parquet"

    response = file_urls(service, subnet, [mine, other, backslash, dotted])

    assert response.status_code == 200
    assert list(response.json()["file_urls"]) == [mine]
    assert response.json()["invalid_files"] == [other, backslash, dotted]


def test_no_valid_key_is_400(service: TestClient, subnet: Subnet) -> None:
    other = f"data/hotkey={subnet.other_miner.hotkey.ss58_address}/f.parquet"

    response = file_urls(service, subnet, [other])

    assert response.status_code == 400
    assert response.json()["code"] == "no_valid_files"


def test_expiry_above_three_hours_is_422(service: TestClient, subnet: Subnet) -> None:
    body = {
        "miner_hotkey": subnet.miner.hotkey.ss58_address,
        "file_keys": miner_keys(subnet, 1),
        "expiry_hours": 4,
    }

    response = tao_post(service, subnet.validator.hotkey, "/get-file-presigned-urls", body)

    assert response.status_code == 422
