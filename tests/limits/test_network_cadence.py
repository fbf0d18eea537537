"""The default quotas serve what today's clients do at their real cadence, in full.

A miner asks `/get-file-upload-url` once per list entry in one burst every 2 hours; the
trusted validator (UID 89) runs an S3 pass over every miner. Both go beyond the generic
miner and validator quotas; these tests run them against the contract's defaults.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from bittensor.sp_core import Keypair
from fastapi.testclient import TestClient

from app.main import create_app
from config import Settings
from tests.conftest import S3Server, SettingsFactory, Subnet
from tests.signing import compact, key, tao_headers

ADMIN_KEY = "admin-key-1"
UPLOAD = "/get-file-upload-url"
TRUSTED_UID = 89
MINERS = 255  # every other uid of a full subnet
LISTING_PAGES = 3
WINDOW = {
    "expired_since": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
    "expired_until": datetime.now(UTC).isoformat(),
}


def signed_post(client: TestClient, path: str, signer: Keypair, body: dict[str, Any]) -> Any:
    raw = compact(body)
    return client.post(path, content=raw, headers=tao_headers(signer, raw))


def filename(n: int) -> str:
    return f"data_20260805_141502_{n + 1}_{n:016x}.parquet"


@pytest.fixture
def cadence_settings(
    make_settings: SettingsFactory, database_url: str, seaweed: S3Server, bucket: str
) -> Settings:
    # The contract's defaults for the quotas under test (the fixture turns them off).
    return make_settings(
        database_url=database_url,
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        admin_api_keys=ADMIN_KEY,
        rate_limit_ip="600/minute",
        rate_limit_miner="100/hour",
        rate_limit_validator="1000/hour",
    )


# --- a miner's upload burst ------------------------------------------------------------


def publish_list(client: TestClient, entries: int) -> list[str]:
    ids = [f"crawler-{n}-h4rptebsja6qbdmocrt98" for n in range(entries)]
    rows = [
        {"id": job, "platform": "x", "weight": 1.0, "label": f"#topic{n}"}
        for n, job in enumerate(ids)
    ]
    answer = client.put(
        "/dynamic-desirability/list", json={"entries": rows}, headers={"X-API-Key": ADMIN_KEY}
    )
    assert answer.status_code == 200, answer.text
    return ids


def upload_burst(client: TestClient, miner: Keypair, jobs: list[str]) -> list[int]:
    return [
        signed_post(client, UPLOAD, miner, {"job_id": job, "filename": filename(n)}).status_code
        for n, job in enumerate(jobs)
    ]


def test_upload_burst_for_every_entry_of_a_300_entry_list_is_served(
    cadence_settings: Settings, subnet: Subnet
) -> None:
    with TestClient(create_app(cadence_settings)) as client:
        jobs = publish_list(client, 300)
        statuses = upload_burst(client, subnet.miner.hotkey, jobs)

    assert statuses == [200] * 300


def test_a_second_full_burst_in_the_same_2_hours_is_served_too(
    cadence_settings: Settings, subnet: Subnet
) -> None:
    # A miner restarted mid-cycle runs its upload pass again 30 minutes after start.
    with TestClient(create_app(cadence_settings)) as client:
        jobs = publish_list(client, 60)
        first = upload_burst(client, subnet.miner.hotkey, jobs)
        second = upload_burst(client, subnet.miner.hotkey, [f"{job}.b" for job in jobs])

    assert first + second == [200] * 120


def test_uploads_spend_their_own_quota_not_the_miners(
    cadence_settings: Settings, subnet: Subnet
) -> None:
    settings = cadence_settings.model_copy(update={"rate_limit_miner": "1/hour"})
    with TestClient(create_app(settings)) as client:
        statuses = upload_burst(client, subnet.miner.hotkey, publish_list(client, 3))

    assert statuses == [200] * 3


def test_fixed_upload_quota_refuses_past_it_naming_the_upload_quota(
    cadence_settings: Settings, subnet: Subnet
) -> None:
    settings = cadence_settings.model_copy(update={"rate_limit_file_uploads": "2/hour"})
    with TestClient(create_app(settings)) as client:
        jobs = publish_list(client, 300)
        served = upload_burst(client, subnet.miner.hotkey, jobs[:2])
        refused = signed_post(
            client, UPLOAD, subnet.miner.hotkey, {"job_id": jobs[2], "filename": filename(2)}
        )
        other = upload_burst(client, subnet.other_miner.hotkey, jobs[:1])

    assert served == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["limit"] == "file_uploads"
    assert "upload URLs" in refused.json()["detail"]
    assert "409" not in refused.text
    assert other == [200]


# --- the trusted validator's S3 pass ---------------------------------------------------


@functools.cache
def miner_keys() -> tuple[Keypair, ...]:
    return tuple(key(f"cadence-miner-{n}") for n in range(MINERS))


VALIDATOR = key("cadence-uid-89")
OTHER_VALIDATOR = key("cadence-other-validator")


def full_subnet(path: Path) -> Path:
    """256 uids: UID 89 and one other validator with stake, every other uid a miner."""
    miners = iter(miner_keys())
    rows = []
    for uid in range(MINERS + 2):
        if uid == TRUSTED_UID:
            hotkey, validator = VALIDATOR, True
        elif uid == MINERS + 1:
            hotkey, validator = OTHER_VALIDATOR, True
        else:
            hotkey, validator = next(miners), False
        rows.append(
            {
                "uid": uid,
                "hotkey": hotkey.ss58_address,
                "coldkey": key(f"cadence-cold-{uid % 7}").ss58_address,
                "validator_permit": validator,
                "stake": 50_000.0 if validator else 0.0,
            }
        )
    path.write_text(json.dumps({"netuid": 13, "block": 100, "neurons": rows}))
    return path


@pytest.fixture
def subnet_client(cadence_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    settings = cadence_settings.model_copy(
        update={
            "metagraph_file": full_subnet(tmp_path / "subnet.json"),
            # The pass below runs in seconds from one address; at its real pace (one miner
            # at a time over 2 hours) it is about 11 requests a minute.
            "rate_limit_ip": "",
        }
    )
    assert settings.trusted_validators == ("89",)
    with TestClient(create_app(settings)) as client:
        yield client


def s3_pass_requests(miner: Keypair) -> list[tuple[str, dict[str, Any]]]:
    """What UID 89 asks for one miner: listing pages, one batch of file URLs, miner-jobs."""
    hotkey = miner.ss58_address
    pages = [("/get-miner-list", {"miner_hotkey": hotkey})] + [
        ("/get-miner-list", {"miner_hotkey": hotkey, "continuation_token": f"page-{n}"})
        for n in range(1, LISTING_PAGES)
    ]
    folder = f"data/hotkey={hotkey}/job_id=crawler-1/"
    files = {"miner_hotkey": hotkey, "file_keys": [folder + filename(0)], "expiry_hours": 3}
    jobs = {"miner_hotkey": hotkey, **WINDOW, "limit": 1000}
    return [
        *pages,
        ("/get-file-presigned-urls", files),
        ("/on-demand/validator/miner-jobs", jobs),
    ]


def test_trusted_validators_full_s3_pass_of_1281_requests_is_served(
    subnet_client: TestClient,
) -> None:
    requests = [r for miner in miner_keys() for r in s3_pass_requests(miner)]
    # Job stats once per 10 minutes over the hour the pass takes.
    requests += [("/on-demand/validator/jobs/stats", {**WINDOW, "min_submitters": 5})] * 6
    assert len(requests) == 1281

    statuses = [signed_post(subnet_client, p, VALIDATOR, b).status_code for p, b in requests]

    assert statuses.count(200) == 1281


def test_other_validators_keep_the_validator_quota(
    cadence_settings: Settings, tmp_path: Path
) -> None:
    settings = cadence_settings.model_copy(
        update={
            "metagraph_file": full_subnet(tmp_path / "subnet.json"),
            "rate_limit_validator": "3/hour",
        }
    )
    body = {**WINDOW, "min_submitters": 5}
    stats = "/on-demand/validator/jobs/stats"
    with TestClient(create_app(settings)) as client:
        trusted = [signed_post(client, stats, VALIDATOR, body).status_code for _ in range(10)]
        other = [signed_post(client, stats, OTHER_VALIDATOR, body) for _ in range(4)]

    assert trusted == [200] * 10
    assert [answer.status_code for answer in other] == [200, 200, 200, 429]
    assert other[-1].json()["limit"] == "validator"


def test_trusted_validator_past_its_own_quota_is_refused_naming_it(
    cadence_settings: Settings, tmp_path: Path
) -> None:
    settings = cadence_settings.model_copy(
        update={
            "metagraph_file": full_subnet(tmp_path / "subnet.json"),
            "rate_limit_trusted": "2/hour",
        }
    )
    body = {"miner_hotkey": miner_keys()[0].ss58_address}
    with TestClient(create_app(settings)) as client:
        answers = [signed_post(client, "/get-miner-list", VALIDATOR, body) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[-1].json()["limit"] == "trusted"
    assert "trusted validator" in answers[-1].json()["detail"]


def test_listing_urls_of_the_pass_work_against_storage(
    subnet_client: TestClient, seaweed: S3Server, cadence_settings: Settings
) -> None:
    miner = miner_keys()[0]
    key_name = f"data/hotkey={miner.ss58_address}/job_id=crawler-1/{filename(0)}"
    seaweed.client.put_object(Bucket=cadence_settings.s3_bucket, Key=key_name, Body=b"x" * 64)

    answer = signed_post(
        subnet_client, "/get-miner-list", VALIDATOR, {"miner_hotkey": miner.ss58_address}
    )
    listing = httpx2.get(answer.json()["list_url"], timeout=30)

    assert listing.status_code == 200
    assert key_name.replace("=", "%3D") in listing.text or key_name in listing.text
