"""btauth/1 on the grant endpoints: accepted when genuine, else a precise refusal."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bittensor import http_auth
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.probes import VALIDATOR_PROBE, app_with_validator_probe
from tests.signing import btauth_request, key

GRANT = "/get-folder-access"
SERVER = key("s3-auth-server")


@pytest.fixture
def bound_client(make_settings: SettingsFactory) -> Iterator[TestClient]:
    """A service that requires requests bound to its own hotkey."""
    settings = make_settings(server_hotkey=SERVER.ss58_address)
    with TestClient(app_with_validator_probe(settings)) as client:
        yield client


def miner_request(subnet: Subnet, **changes: Any) -> dict[str, Any]:
    return {"coldkey": subnet.miner.coldkey.ss58_address, "source": "x", **changes}


def send(client: TestClient, path: str, raw: bytes, headers: dict[str, str]) -> Any:
    return client.post(path, content=raw, headers=headers)


def test_request_signed_with_http_auth_sign_gets_a_miner_grant(
    client: TestClient, subnet: Subnet
) -> None:
    raw, headers = btauth_request(subnet.miner.hotkey, GRANT, miner_request(subnet))

    response = send(client, GRANT, raw, headers)

    assert response.status_code == 200, response.text
    assert response.json()["folder"] == f"data/x/{subnet.miner.coldkey.ss58_address}/"


def test_receiver_bound_request_gets_grants_when_server_hotkey_is_set(
    bound_client: TestClient, subnet: Subnet
) -> None:
    miner = btauth_request(
        subnet.miner.hotkey, GRANT, miner_request(subnet), receiver=SERVER.ss58_address
    )
    validator = btauth_request(
        subnet.validator.hotkey, VALIDATOR_PROBE, {}, receiver=SERVER.ss58_address
    )

    miner_response = send(bound_client, GRANT, *miner)
    validator_response = send(bound_client, VALIDATOR_PROBE, *validator)

    assert miner_response.status_code == 200, miner_response.text
    assert validator_response.status_code == 200, validator_response.text
    assert validator_response.json()["hotkey"] == subnet.validator.hotkey.ss58_address


def refusals(subnet: Subnet) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Each way a btauth/1 request can be wrong, made against a SERVER_HOTKEY-bound service."""
    server = SERVER.ss58_address
    good_raw, good_headers = btauth_request(
        subnet.miner.hotkey, GRANT, miner_request(subnet), receiver=server
    )
    altered = json.dumps(miner_request(subnet, source="reddit")).encode()
    stale = json.dumps(miner_request(subnet)).encode()
    stale_headers = http_auth.sign(
        subnet.miner.hotkey,
        method="POST",
        path=GRANT,
        body=stale,
        receiver_ss58=server,
        nonce_ns=time.time_ns() - 60 * 10**9,
    )
    return {
        "altered body": (altered, good_headers),
        "wrong receiver": btauth_request(
            subnet.miner.hotkey, GRANT, miner_request(subnet), receiver=key("other").ss58_address
        ),
        "no receiver": btauth_request(subnet.miner.hotkey, GRANT, miner_request(subnet)),
        "stale nonce": (stale, stale_headers),
        "other path": btauth_request(
            subnet.miner.hotkey, "/get-validator-access", miner_request(subnet), receiver=server
        ),
        "body hotkey differs": btauth_request(
            subnet.miner.hotkey,
            GRANT,
            miner_request(subnet, hotkey=subnet.other_miner.hotkey.ss58_address),
            receiver=server,
        ),
        "malformed nonce": (good_raw, {**good_headers, "X-Bittensor-Nonce": "yesterday"}),
    }


EXPECTED = {
    "altered body": (401, "bad_signature"),
    "wrong receiver": (401, "wrong_receiver"),
    "no receiver": (401, "wrong_receiver"),
    "stale nonce": (400, "stale_nonce"),
    "other path": (401, "bad_signature"),
    "body hotkey differs": (400, "hotkey_mismatch"),
    "malformed nonce": (400, "malformed_auth"),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_wrong_btauth_request_is_refused_with_its_own_code(
    bound_client: TestClient, subnet: Subnet, case: str
) -> None:
    raw, headers = refusals(subnet)[case]

    response = send(bound_client, GRANT, raw, headers)

    assert (response.status_code, response.json()["code"]) == EXPECTED[case]
    assert "fields" not in response.json()


def test_refusals_have_distinct_details(bound_client: TestClient, subnet: Subnet) -> None:
    details = {
        case: send(bound_client, GRANT, *request).json()["detail"]
        for case, request in refusals(subnet).items()
    }

    distinct = {
        details[c] for c in ("altered body", "wrong receiver", "no receiver", "stale nonce")
    }
    assert len(distinct) == 4, details
    assert "receiver" in details["wrong receiver"]
    assert "missing" in details["no receiver"]
    assert "older" in details["stale nonce"]


def test_stale_nonce_refusal_carries_server_time(bound_client: TestClient, subnet: Subnet) -> None:
    response = send(bound_client, GRANT, *refusals(subnet)["stale nonce"])

    assert abs(response.json()["server_time"] - time.time()) < 60


def test_replayed_btauth_request_is_refused(bound_client: TestClient, subnet: Subnet) -> None:
    raw, headers = btauth_request(
        subnet.miner.hotkey, GRANT, miner_request(subnet), receiver=SERVER.ss58_address
    )

    first = send(bound_client, GRANT, raw, headers)
    second = send(bound_client, GRANT, raw, headers)

    assert first.status_code == 200
    assert second.status_code == 401
    assert second.json()["code"] == "replayed"
    assert "already used" in second.json()["detail"]


def test_btauth_nonce_is_single_use_even_with_replay_protection_off(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    raw, headers = btauth_request(subnet.miner.hotkey, GRANT, miner_request(subnet))
    with TestClient(create_app(make_settings(replay_protection=False))) as client:
        assert send(client, GRANT, raw, headers).status_code == 200
        assert send(client, GRANT, raw, headers).json()["code"] == "replayed"


def test_refused_btauth_request_does_not_spend_its_nonce(
    bound_client: TestClient, subnet: Subnet
) -> None:
    # A request refused after verification (foreign coldkey) leaves the nonce unused,
    # so a forged copy sent first cannot block the genuine request.
    body = miner_request(subnet, coldkey=subnet.other_miner.coldkey.ss58_address)
    raw, headers = btauth_request(subnet.miner.hotkey, GRANT, body, receiver=SERVER.ss58_address)
    forged = {**headers, "X-Bittensor-Signature": "0x" + "00" * 64}

    assert send(bound_client, GRANT, raw, forged).json()["code"] == "bad_signature"
    assert send(bound_client, GRANT, raw, headers).json()["code"] == "coldkey_mismatch"
    assert send(bound_client, GRANT, raw, headers).json()["code"] == "coldkey_mismatch"
