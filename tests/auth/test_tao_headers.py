"""Tao v2 signed headers: what verifies, what is refused with which code, and replays."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.tao import decode_signature
from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.signing import compact, tao_headers

PATH = "/get-miner-specific-access"


def body_for(subnet: Subnet) -> bytes:
    return compact({"miner_hotkey": subnet.miner.hotkey.ss58_address})


def post(client: TestClient, raw: bytes, headers: dict[str, str], path: str = PATH) -> Any:
    return client.post(path, content=raw, headers=headers)


@pytest.fixture
def limited(make_settings: SettingsFactory) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(rate_limit_validator="1/hour"))) as client:
        yield client


@pytest.mark.parametrize("hex_signature", [False, True])
def test_base64_and_hex_signatures_verify(
    client: TestClient, subnet: Subnet, hex_signature: bool
) -> None:
    raw = body_for(subnet)
    headers = tao_headers(subnet.validator.hotkey, raw, hex_signature=hex_signature)

    response = post(client, raw, headers)

    assert response.status_code == 200, response.text
    assert len(headers["X-Tao-Signature"]) == (128 if hex_signature else 88)


def test_hex_digits_are_not_misread_as_base64() -> None:
    signature = bytes(range(64))

    assert decode_signature(signature.hex()) == signature


def test_a_nonce_is_accepted_once_across_endpoints(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    raw = body_for(subnet)
    headers = tao_headers(subnet.validator.hotkey, raw)

    with TestClient(create_app(make_settings(trusted_validators="*"))) as client:
        first = post(client, raw, headers)
        again = post(client, raw, headers)
        elsewhere = post(client, raw, headers, path="/get-miner-list")

    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (401, "replayed")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (401, "replayed")


@pytest.mark.parametrize("offset_seconds", [-61, 61])
def test_timestamps_outside_the_window_are_stale(
    client: TestClient, subnet: Subnet, offset_seconds: int
) -> None:
    raw = body_for(subnet)
    ts = int((time.time() + offset_seconds) * 1000)

    response = post(client, raw, tao_headers(subnet.validator.hotkey, raw, timestamp_ms=ts))

    assert response.status_code == 400
    assert response.json()["code"] == "stale_timestamp"
    assert abs(response.json()["server_time"] - time.time()) < 5


def test_tao_max_age_is_configurable(make_settings: SettingsFactory, subnet: Subnet) -> None:
    raw = body_for(subnet)
    headers = tao_headers(
        subnet.validator.hotkey, raw, timestamp_ms=int(time.time() * 1000) - 10_000
    )

    with TestClient(create_app(make_settings(tao_max_age_seconds=5))) as client:
        response = post(client, raw, headers)

    assert response.json()["code"] == "stale_timestamp"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"X-Tao-Version": "1"}, "malformed_auth"),
        ({"X-Tao-Nonce": "not-a-uuid"}, "malformed_auth"),
        ({"X-Tao-Timestamp": "12.5"}, "malformed_auth"),
        ({"X-Tao-Signature": "!!"}, "invalid_signature"),
        ({"X-Tao-Signed-By": "5notanaddress"}, "invalid_hotkey"),
    ],
)
def test_malformed_headers_are_400(
    client: TestClient, subnet: Subnet, change: dict[str, str], code: str
) -> None:
    raw = body_for(subnet)
    headers = {**tao_headers(subnet.validator.hotkey, raw), **change}

    response = post(client, raw, headers)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_a_missing_header_is_named(client: TestClient, subnet: Subnet) -> None:
    raw = body_for(subnet)
    headers = tao_headers(subnet.validator.hotkey, raw)
    del headers["X-Tao-Nonce"]

    response = post(client, raw, headers)

    assert response.status_code == 400
    assert "X-Tao-Nonce" in response.json()["detail"]


def test_a_body_changed_after_signing_is_401(client: TestClient, subnet: Subnet) -> None:
    raw = body_for(subnet)
    headers = tao_headers(subnet.validator.hotkey, raw)
    respaced = raw.replace(b":", b": ")

    response = post(client, respaced, headers)

    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


def test_another_hotkeys_signature_is_401(client: TestClient, subnet: Subnet) -> None:
    raw = body_for(subnet)
    headers = tao_headers(subnet.validator.hotkey, raw)
    headers["X-Tao-Signed-By"] = subnet.poor_validator.hotkey.ss58_address

    assert post(client, raw, headers).json()["code"] == "bad_signature"


def test_unregistered_signer_is_401(client: TestClient, subnet: Subnet) -> None:
    raw = body_for(subnet)

    response = post(client, raw, tao_headers(subnet.outsider, raw))

    assert (response.status_code, response.json()["code"]) == (401, "not_registered")


def test_a_body_hotkey_other_than_the_signer_is_400(client: TestClient, subnet: Subnet) -> None:
    raw = compact(
        {
            "miner_hotkey": subnet.miner.hotkey.ss58_address,
            "hotkey": subnet.poor_validator.hotkey.ss58_address,
        }
    )

    response = post(client, raw, tao_headers(subnet.validator.hotkey, raw))

    assert (response.status_code, response.json()["code"]) == (400, "hotkey_mismatch")


def test_a_request_refused_for_its_quota_keeps_its_nonce_usable(
    limited: TestClient, subnet: Subnet
) -> None:
    raw = body_for(subnet)
    assert post(limited, raw, tao_headers(subnet.validator.hotkey, raw)).status_code == 200
    headers = tao_headers(subnet.validator.hotkey, raw)

    refused = post(limited, raw, headers)
    resent = post(limited, raw, headers)

    assert refused.status_code == 429
    # Not "replayed": the refused request did not spend its signature.
    assert resent.status_code == 429


def test_a_refused_role_spends_no_nonce(client: TestClient, subnet: Subnet) -> None:
    raw = body_for(subnet)
    headers = tao_headers(subnet.miner.hotkey, raw)

    first = post(client, raw, headers)
    second = post(client, raw, headers)

    assert first.json()["code"] == second.json()["code"] == "no_permit"


def test_header_only_endpoint_refuses_a_body_signature(client: TestClient, subnet: Subnet) -> None:
    name = "data_20260805_141502_12_0123456789abcdef.parquet"
    raw = compact({"job_id": "j", "filename": name, "hotkey": subnet.miner.hotkey.ss58_address})

    response = client.post("/get-file-upload-url", content=raw)

    assert (response.status_code, response.json()["code"]) == (401, "missing_auth")
