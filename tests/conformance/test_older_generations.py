"""Seed-era (April 2025) and hotkey-era (June 2025 on) clients, with their exact bytes."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.auth.legacy import (
    hotkey_miner_message,
    miner_files_message,
    miner_listing_message,
    miner_message,
)
from tests.conformance.wire import common_prefixes, legacy_post, read_list_page
from tests.conftest import S3Server, Subnet
from tests.routes.test_validator_access_on_s3 import put_objects
from tests.signing import sign_hex, validator_body


def signed(hotkey: Any, message: str, timestamp: int, **fields: Any) -> dict[str, Any]:
    # Deployed clients send `signature.hex()`: 128 lower-case digits, no 0x.
    return {
        **fields,
        "hotkey": hotkey.ss58_address,
        "timestamp": timestamp,
        "signature": sign_hex(hotkey, message, prefix=""),
    }


def hotkey_era_grant(client: TestClient, subnet: Subnet) -> httpx2.Response:
    miner, ts = subnet.miner, int(time.time())
    coldkey = miner.coldkey.ss58_address
    message = hotkey_miner_message(coldkey, miner.hotkey.ss58_address, ts)
    return legacy_post(
        client, "/get-folder-access", signed(miner.hotkey, message, ts, coldkey=coldkey)
    )


def upload(grant: dict[str, Any], relative: str, size: int = 64) -> httpx2.Response:
    form = {**grant["fields"], "key": grant["folder"] + relative}
    return httpx2.post(grant["url"], data=form, files={"file": ("f", b"\x01" * size)}, timeout=30)


def test_hotkey_era_miner_gets_its_hotkey_folder_and_uploads_into_it(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    response = hotkey_era_grant(service, subnet)
    grant = response.json()
    folder = f"data/hotkey={subnet.miner.hotkey.ss58_address}/"

    assert response.status_code == 200, response.text
    assert grant["folder"] == folder
    assert grant["method"] == "POST"
    assert grant["structure_info"]["folder_structure"] == folder
    assert upload(grant, "x/label/f.parquet").status_code == 204
    assert seaweed.keys(bucket) == [folder + "x/label/f.parquet"]


def test_hotkey_era_form_refuses_another_hotkeys_folder(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    grant = hotkey_era_grant(service, subnet).json()
    victim = f"data/hotkey={subnet.other_miner.hotkey.ss58_address}/f.parquet"

    form = {**grant["fields"], "key": victim}
    response = httpx2.post(grant["url"], data=form, files={"file": ("f", b"\x01" * 64)})

    assert response.status_code == 403
    assert seaweed.keys(bucket) == []


def test_hotkey_era_grant_needs_the_owning_coldkey(service: TestClient, subnet: Subnet) -> None:
    miner, ts = subnet.miner, int(time.time())
    foreign = subnet.other_miner.coldkey.ss58_address
    message = hotkey_miner_message(foreign, miner.hotkey.ss58_address, ts)

    response = legacy_post(
        service, "/get-folder-access", signed(miner.hotkey, message, ts, coldkey=foreign)
    )

    assert response.status_code == 403
    assert response.json()["code"] == "coldkey_mismatch"


def test_seed_era_client_that_left_source_to_its_default_gets_the_x_folder(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    miner, ts = subnet.miner, int(time.time())
    coldkey = miner.coldkey.ss58_address
    body = signed(miner.hotkey, miner_message(coldkey, "x", ts), ts, coldkey=coldkey)

    grant = legacy_post(service, "/get-folder-access", body).json()

    assert grant["folder"] == f"data/x/{coldkey}/"
    assert upload(grant, "f.bin").status_code == 204


@pytest.mark.parametrize("source", ["x", "reddit"])
def test_seed_era_miner_uploads_into_its_coldkey_folder(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str, source: str
) -> None:
    miner, ts = subnet.miner, int(time.time())
    coldkey = miner.coldkey.ss58_address
    body = signed(
        miner.hotkey, miner_message(coldkey, source, ts), ts, coldkey=coldkey, source=source
    )

    grant = legacy_post(service, "/get-folder-access", body).json()

    assert grant["folder"] == f"data/{source}/{coldkey}/"
    assert upload(grant, "f.bin").status_code == 204
    assert seaweed.keys(bucket) == [f"data/{source}/{coldkey}/f.bin"]


def test_hotkey_era_validator_lists_miners_through_list_all_miners(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    hotkeys = [m.hotkey.ss58_address for m in (subnet.miner, subnet.other_miner)]
    put_objects(seaweed, bucket, [f"data/hotkey={h}/job_id=j/f.parquet" for h in hotkeys])
    bundle = legacy_post(
        service, "/get-validator-access", validator_body(subnet.validator.hotkey)
    ).json()

    prefixes = common_prefixes(bundle["urls"]["miners"]["list_all_miners"])

    assert sorted(prefixes) == sorted(f"data/hotkey={h}/" for h in hotkeys)


def test_miner_specific_access_lists_one_miners_folder(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    miner = subnet.miner.hotkey.ss58_address
    key = f"data/hotkey={miner}/job_id=j/data_20260805_141502_5_0123456789abcdef.parquet"
    put_objects(
        seaweed, bucket, [key, f"data/hotkey={subnet.other_miner.hotkey.ss58_address}/o.parquet"]
    )
    ts = int(time.time())
    body = signed(subnet.validator.hotkey, miner_listing_message(miner, ts), ts, miner_hotkey=miner)

    response = legacy_post(service, "/get-miner-specific-access", body)

    assert response.status_code == 200, response.text
    assert [f.key for f in read_list_page(response.json()["miner_url"], miner).files] == [key]


def test_legacy_signed_miner_list_and_file_urls_still_work(
    service: TestClient, subnet: Subnet, seaweed: S3Server, bucket: str
) -> None:
    # Validators from 2025-08 to 2026-03 signed these two with the body signature.
    validator, miner = subnet.validator.hotkey, subnet.miner.hotkey.ss58_address
    key = f"data/hotkey={miner}/job_id=j/data_20260805_141502_5_0123456789abcdef.parquet"
    put_objects(seaweed, bucket, [key])
    ts = int(time.time())

    listing = legacy_post(
        service,
        "/get-miner-list",
        signed(validator, miner_listing_message(miner, ts), ts, miner_hotkey=miner),
    )
    files = legacy_post(
        service,
        "/get-file-presigned-urls",
        signed(
            validator,
            miner_files_message(miner, validator.ss58_address, ts),
            ts,
            miner_hotkey=miner,
            file_keys=[key],
            expiry_hours=1,
        ),
    )

    assert listing.status_code == 200, listing.text
    assert [f.key for f in read_list_page(listing.json()["list_url"], miner).files] == [key]
    assert files.status_code == 200, files.text
    assert httpx2.get(files.json()["file_urls"][key]["presigned_url"]).status_code == 200
