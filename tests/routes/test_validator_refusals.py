"""Who may not use the validator endpoints, and the precise refusal each one gets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bittensor.sp_core import Keypair
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.signing import btauth_request, validator_body


def btauth_post(client: TestClient, signer: Keypair, path: str, body: dict[str, Any]) -> Any:
    raw, headers = btauth_request(signer, path, body)
    return client.post(path, content=raw, headers=headers)


def refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("miner", (403, "no_permit")), ("poor_validator", (403, "low_stake"))],
)
def test_bundle_refuses_non_validators(
    client: TestClient, subnet: Subnet, who: str, expected: tuple[int, str]
) -> None:
    member = getattr(subnet, who)
    response = client.post("/get-validator-access", json=validator_body(member.hotkey))
    assert refusal(response) == expected


def test_bundle_refuses_unregistered_hotkey(client: TestClient, subnet: Subnet) -> None:
    response = client.post("/get-validator-access", json=validator_body(subnet.outsider))
    assert refusal(response) == (401, "not_registered")


def test_bundle_refuses_bad_signature(client: TestClient, subnet: Subnet) -> None:
    body = validator_body(subnet.validator.hotkey)
    body["signature"] = "0x" + "00" * 64
    assert refusal(client.post("/get-validator-access", json=body)) == (401, "bad_signature")


def test_bundle_with_btauth_headers_passes_auth(client: TestClient, subnet: Subnet) -> None:
    # The S3 endpoint of `client` is closed, so an authorized request ends at discovery.
    response = btauth_post(client, subnet.validator.hotkey, "/get-validator-access", {})
    assert refusal(response) == (503, "storage_unavailable")


def test_bundle_is_503_when_storage_cannot_be_listed(client: TestClient, subnet: Subnet) -> None:
    response = client.post("/get-validator-access", json=validator_body(subnet.validator.hotkey))
    assert refusal(response) == (503, "storage_unavailable")


# --- /list-files -------------------------------------------------------------------------


def test_list_files_needs_btauth(client: TestClient, subnet: Subnet) -> None:
    body = validator_body(
        subnet.validator.hotkey, source="x", coldkey=subnet.miner.coldkey.ss58_address
    )
    assert refusal(client.post("/list-files", json=body)) == (401, "missing_auth")


@pytest.mark.parametrize(
    ("who", "expected"),
    [("miner", (403, "coldkey_mismatch")), ("poor_validator", (403, "low_stake"))],
)
def test_list_files_refuses_foreign_folder(
    client: TestClient, subnet: Subnet, who: str, expected: tuple[int, str]
) -> None:
    foreign = {"source": "x", "coldkey": subnet.other_miner.coldkey.ss58_address}
    response = btauth_post(client, getattr(subnet, who).hotkey, "/list-files", foreign)
    assert refusal(response) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"source": "tiktok"}, (403, "source_not_allowed")),
        ({"source": "../x"}, (400, "invalid_source")),
        ({"coldkey": "not-a-key"}, (400, "invalid_coldkey")),
        ({"max_keys": 0}, (422, "invalid_request")),
        ({"max_keys": 1001}, (422, "invalid_request")),
    ],
)
def test_list_files_refuses_bad_requests(
    client: TestClient, subnet: Subnet, body: dict[str, Any], expected: tuple[int, str]
) -> None:
    request = {"source": "x", "coldkey": subnet.miner.coldkey.ss58_address, **body}
    response = btauth_post(client, subnet.validator.hotkey, "/list-files", request)
    assert refusal(response) == expected


def test_list_files_is_503_when_storage_cannot_be_listed(
    client: TestClient, subnet: Subnet
) -> None:
    request = {"source": "x", "coldkey": subnet.miner.coldkey.ss58_address}
    response = btauth_post(client, subnet.validator.hotkey, "/list-files", request)
    assert refusal(response) == (503, "storage_unavailable")


# --- /get-file-urls ----------------------------------------------------------------------


def test_file_urls_default_to_an_hour(client: TestClient, subnet: Subnet) -> None:
    key = "data/x/someone/file.bin"
    response = btauth_post(client, subnet.validator.hotkey, "/get-file-urls", {"keys": [key]})
    assert response.status_code == 200, response.text
    assert "X-Amz-Expires=3600&" in response.json()["urls"][key]


def test_file_urls_need_btauth(client: TestClient, subnet: Subnet) -> None:
    body = validator_body(subnet.validator.hotkey, keys=["data/x/a"])
    assert refusal(client.post("/get-file-urls", json=body)) == (401, "missing_auth")


@pytest.mark.parametrize(
    ("who", "expected"),
    [("miner", (403, "no_permit")), ("poor_validator", (403, "low_stake"))],
)
def test_file_urls_refuse_non_validators(
    client: TestClient, subnet: Subnet, who: str, expected: tuple[int, str]
) -> None:
    body = {"keys": [f"data/x/{subnet.other_miner.coldkey.ss58_address}/f.bin"]}
    response = btauth_post(client, getattr(subnet, who).hotkey, "/get-file-urls", body)
    assert refusal(response) == expected


@pytest.mark.parametrize(
    "key",
    [
        "secrets/server.env",
        "/data/x/a",
        "datax/a",
        "data/../secrets",
        "data/x/../../b",
        "data/x/a\nb",
        "data/x/\x00",
        "data/x\\5Fvictim/victim.bin",
        "data/x/./a",
        "data//x/a",
    ],
)
def test_file_urls_refuse_keys_outside_data(client: TestClient, subnet: Subnet, key: str) -> None:
    body = {"keys": ["data/x/fine.bin", key]}
    response = btauth_post(client, subnet.validator.hotkey, "/get-file-urls", body)
    assert refusal(response) == (403, "key_outside_data")


@pytest.mark.parametrize(
    "body",
    [
        {"keys": [f"data/x/{i}" for i in range(1001)]},
        {"keys": ["data/x/a"], "expires_in": 86401},
        {"keys": ["data/x/a"], "expires_in": 0},
        {"keys": [""]},
        {},
    ],
    ids=["1001-keys", "beyond-ttl", "zero-lifetime", "empty-key", "no-keys"],
)
def test_file_urls_refuse_invalid_bodies(
    client: TestClient, subnet: Subnet, body: dict[str, Any]
) -> None:
    response = btauth_post(client, subnet.validator.hotkey, "/get-file-urls", body)
    assert refusal(response) == (422, "invalid_request")


def test_file_urls_accept_exactly_1000_keys(client: TestClient, subnet: Subnet) -> None:
    keys = [f"data/x/5Fsome/{i:04d}.parquet" for i in range(1000)]
    response = btauth_post(client, subnet.validator.hotkey, "/get-file-urls", {"keys": keys})
    assert response.status_code == 200, response.text
    assert list(response.json()["urls"]) == keys


def test_file_urls_and_list_files_count_against_the_validator_quota(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    hotkey = subnet.validator.hotkey
    with TestClient(create_app(make_settings(rate_limit_validator="2/hour"))) as client:
        first = btauth_post(client, hotkey, "/get-file-urls", {"keys": ["data/x/a"]})
        second = btauth_post(client, hotkey, "/get-file-urls", {"keys": ["data/x/a"]})
        listing = btauth_post(
            client,
            hotkey,
            "/list-files",
            {"source": "x", "coldkey": subnet.miner.coldkey.ss58_address},
        )

    assert (first.status_code, second.status_code) == (200, 200)
    assert refusal(listing) == (429, "rate_limited")
    assert listing.json()["limit"] == "validator"


def test_low_stake_refusal_names_exact_figures(
    make_settings: SettingsFactory, subnet: Subnet, tmp_path: Path
) -> None:
    # Rounded figures read "20000 is below the 20000".
    graph = subnet.metagraph()
    graph["neurons"][subnet.validator.uid]["stake"] = 19_999.99
    path = tmp_path / "metagraph.json"
    path.write_text(json.dumps(graph))

    with TestClient(create_app(make_settings(metagraph_file=path))) as client:
        response = client.post(
            "/get-validator-access", json=validator_body(subnet.validator.hotkey)
        )

    assert refusal(response) == (403, "low_stake")
    assert "19,999.99 is below the 20,000" in response.json()["detail"]
