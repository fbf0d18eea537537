"""What a validator's bundle, listings and download URLs open, as enforced by SeaweedFS."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.logs import configure_logging
from app.main import create_app
from config import Settings
from tests.conftest import S3Server, Subnet
from tests.signing import btauth_request, validator_body


def put_objects(seaweed: S3Server, bucket: str, keys: list[str], body: bytes = b"\x01") -> None:
    # boto3 clients are thread-safe; its default pool holds 10 connections.
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda k: seaweed.client.put_object(Bucket=bucket, Key=k, Body=body), keys))


def bundle_for(client: TestClient, subnet: Subnet) -> dict[str, Any]:
    response = client.post("/get-validator-access", json=validator_body(subnet.validator.hotkey))
    assert response.status_code == 200, response.text
    return response.json()


def btauth_post(client: TestClient, signer: Any, path: str, body: dict[str, Any]) -> Any:
    raw, headers = btauth_request(signer, path, body)
    return client.post(path, content=raw, headers=headers)


def listed(xml: str, tag: str = "Key") -> list[str]:
    """Values of `tag` in a ListObjectsV2 answer (the request's own Prefix comes first)."""
    # The bundle's list URLs ask for URL-encoded keys, as botocore's do.
    return [unquote(part.split(f"</{tag}>")[0]) for part in xml.split(f"<{tag}>")[1:]]


def test_bundle_lists_sources_and_all_of_data(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    put_objects(seaweed, bucket, ["data/x/A/f.bin", "data/reddit/B/f.bin"])

    bundle = bundle_for(s3_client, subnet)

    assert bundle["validator_hotkey"] == subnet.validator.hotkey.ss58_address
    assert bundle["bucket"] == bucket
    assert set(bundle["urls"]["sources"]) == {"x", "reddit"}
    assert bundle["urls"]["sources"]["x"]["prefix"] == "data/x/"
    listing = httpx2.get(bundle["urls"]["sources"]["reddit"]["list_miners"], timeout=30)
    assert listing.status_code == 200
    assert listed(listing.text, "Prefix")[1:] == ["data/reddit/B/"]
    everything = httpx2.get(bundle["urls"]["global"]["list_all_data"], timeout=30)
    assert everything.status_code == 200
    assert sorted(listed(everything.text, "Prefix")[1:]) == ["data/reddit/", "data/x/"]


def test_bundle_lists_all_1500_miner_folders_of_a_source(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    names = [f"5Folder{i:05d}" for i in range(1500)]
    put_objects(seaweed, bucket, [f"data/x/{name}/f.bin" for name in names])

    miners = bundle_for(s3_client, subnet)["urls"]["miners"]
    del miners["list_all_miners"]

    assert set(miners) == set(names)
    assert all(set(sources) == {"x"} for sources in miners.values())


def test_miner_files_are_listed_through_the_bundle_list_files_url(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    keys = [f"data/x/{coldkey}/label/2025-01-01/f{i}.parquet" for i in range(3)]
    put_objects(seaweed, bucket, [*keys, f"data/x/{subnet.other_miner.coldkey.ss58_address}/o"])

    entry = bundle_for(s3_client, subnet)["urls"]["miners"][coldkey]["x"]
    response = httpx2.get(entry["list_files"], timeout=30)

    assert entry["prefix"] == f"data/x/{coldkey}/"
    assert response.status_code == 200
    assert sorted(listed(response.text)) == keys


def test_file_downloads_through_a_get_file_urls_url(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    key = f"data/x/{subnet.miner.coldkey.ss58_address}/a b+c é.json"
    seaweed.client.put_object(Bucket=bucket, Key=key, Body=b'{"rows": 1}')

    response = btauth_post(s3_client, subnet.validator.hotkey, "/get-file-urls", {"keys": [key]})
    assert response.status_code == 200, response.text
    download = httpx2.get(response.json()["urls"][key], timeout=30)

    assert download.status_code == 200
    assert download.content == b'{"rows": 1}'


def test_list_files_pages_2500_objects_each_exactly_once(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    keys = [f"data/x/{coldkey}/part/{i:05d}.bin" for i in range(2500)]
    put_objects(seaweed, bucket, [*keys, f"data/x/{coldkey}-sibling/not-mine.bin"])

    seen: list[str] = []
    pages = 0
    request: dict[str, Any] = {"source": "x", "coldkey": coldkey}
    while True:
        response = btauth_post(s3_client, subnet.validator.hotkey, "/list-files", request)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        seen.extend(entry["key"] for entry in page["files"])
        if page["next_token"] is None:
            break
        request["continuation_token"] = page["next_token"]

    assert pages == 3
    assert len(seen) == len(set(seen)) == 2500
    assert sorted(seen) == keys
    last = page["files"][-1]
    assert last["size"] == 1
    assert httpx2.get(last["url"], timeout=30).content == b"\x01"


def test_list_files_honours_max_keys(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    put_objects(seaweed, bucket, [f"data/x/{coldkey}/{i}.bin" for i in range(5)])

    response = btauth_post(
        s3_client,
        subnet.validator.hotkey,
        "/list-files",
        {"source": "x", "coldkey": coldkey, "max_keys": 2},
    )

    assert response.status_code == 200, response.text
    assert len(response.json()["files"]) == 2
    assert response.json()["next_token"]


def test_miner_lists_its_own_folder(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    put_objects(seaweed, bucket, [f"data/reddit/{coldkey}/mine.bin"])

    response = btauth_post(
        s3_client, subnet.miner.hotkey, "/list-files", {"source": "reddit", "coldkey": coldkey}
    )

    assert response.status_code == 200, response.text
    assert [f["key"] for f in response.json()["files"]] == [f"data/reddit/{coldkey}/mine.bin"]


def test_altered_bundle_url_is_refused_by_s3(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    mine, other = subnet.miner.coldkey.ss58_address, subnet.other_miner.coldkey.ss58_address
    put_objects(seaweed, bucket, [f"data/x/{mine}/a.bin", f"data/x/{other}/b.bin"])
    url = bundle_for(s3_client, subnet)["urls"]["miners"][mine]["x"]["list_files"]

    altered = url.replace(mine, other)
    widened = url.replace("X-Amz-Expires=86400", "X-Amz-Expires=604800")

    assert httpx2.get(url, timeout=30).status_code == 200
    assert altered != url and widened != url
    assert httpx2.get(altered, timeout=30).status_code == 403
    assert httpx2.get(widened, timeout=30).status_code == 403


def test_get_url_for_one_key_does_not_open_another(
    s3_client: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    granted, secret = f"data/x/{coldkey}/granted.bin", f"data/x/{coldkey}/secret.bin"
    put_objects(seaweed, bucket, [granted, secret])

    response = btauth_post(
        s3_client, subnet.validator.hotkey, "/get-file-urls", {"keys": [granted]}
    )
    url = response.json()["urls"][granted]

    assert httpx2.get(url, timeout=30).status_code == 200
    assert httpx2.get(url.replace("granted.bin", "secret.bin"), timeout=30).status_code == 403


def test_validator_answers_log_no_signatures_or_urls(
    s3_settings: Settings,
    subnet: Subnet,
    seaweed: S3Server,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging("debug")
    caplog.set_level(logging.DEBUG)
    coldkey = subnet.miner.coldkey.ss58_address
    put_objects(seaweed, bucket, [f"data/x/{coldkey}/a.bin"])
    with TestClient(create_app(s3_settings)) as client:
        # Signed after the start: the replay store refuses signatures made before it.
        body = validator_body(subnet.validator.hotkey)
        bundle = client.post("/get-validator-access", json=body).json()
        listing = btauth_post(
            client, subnet.validator.hotkey, "/list-files", {"source": "x", "coldkey": coldkey}
        ).json()
        urls = btauth_post(
            client, subnet.validator.hotkey, "/get-file-urls", {"keys": ["data/x/b"]}
        ).json()

    signed = [
        bundle["urls"]["global"]["list_all_data"],
        bundle["urls"]["miners"][coldkey]["x"]["list_files"],
        listing["files"][0]["url"],
        urls["urls"]["data/x/b"],
    ]
    secrets = [body["signature"][2:]] + [url.split("X-Amz-Signature=")[1] for url in signed]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records
    for secret in secrets:
        assert secret not in logged
