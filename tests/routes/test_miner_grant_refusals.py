"""Who gets a miner grant, and the precise refusal everyone else gets."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import bittensor_wallet
import pytest
from fastapi.testclient import TestClient

from app.schemas import FolderAccess
from s3auth_client.legacy import miner_message
from tests.conftest import SettingsFactory, Subnet
from tests.signing import miner_body


def post(client: TestClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/get-folder-access", json=body)
    return response.status_code, response.json()


def test_registered_miner_gets_a_form_scoped_to_its_folder(
    client: TestClient, subnet: Subnet
) -> None:
    coldkey = subnet.miner.coldkey.ss58_address

    status, grant = post(client, miner_body(subnet.miner.hotkey, coldkey))

    assert status == 200
    assert grant["folder"] == f"data/x/{coldkey}/"
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    assert ["starts-with", "$key", f"data/x/{coldkey}/"] in policy["conditions"]
    assert ["content-length-range", 1024, 5 * 1024**3] in policy["conditions"]
    assert {"acl": "private"} in policy["conditions"]
    assert "key" not in grant["fields"]
    assert grant["expiry_seconds"] == 86400
    assert f"prefix=data%2Fx%2F{coldkey}%2F" in grant["list_url"]


def test_grant_has_exactly_the_documented_fields_in_order(
    client: TestClient, subnet: Subnet
) -> None:
    # The route writes its JSON by hand; the OpenAPI document shows FolderAccess.
    coldkey = subnet.miner.coldkey.ss58_address

    status, grant = post(client, miner_body(subnet.miner.hotkey, coldkey))

    assert status == 200
    assert list(grant) == list(FolderAccess.model_fields)
    assert FolderAccess.model_validate(grant).model_dump() == grant


@pytest.mark.parametrize("prefix", ["0x", ""])
def test_bittensor_wallet_signature_is_accepted(
    client: TestClient, subnet: Subnet, prefix: str
) -> None:
    # Deployed miners sign with bittensor_wallet's Keypair and send hex, some without 0x.
    hotkey = bittensor_wallet.Keypair.create_from_uri("//miner-hot")
    coldkey = subnet.miner.coldkey.ss58_address
    timestamp = int(time.time())
    signature = hotkey.sign(miner_message(coldkey, "x", timestamp)).hex()
    body = {
        "coldkey": coldkey,
        "hotkey": hotkey.ss58_address,
        "source": "x",
        "timestamp": timestamp,
        "signature": prefix + signature,
    }

    status, grant = post(client, body)

    assert status == 200, grant
    assert grant["folder"] == f"data/x/{coldkey}/"


def test_body_without_content_type_is_parsed(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)

    response = client.post("/get-folder-access", content=json.dumps(body).encode())

    assert response.status_code == 200


def test_unregistered_hotkey_is_401(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.outsider, subnet.miner.coldkey.ss58_address)

    status, error = post(client, body)

    assert status == 401
    assert error["code"] == "not_registered"
    assert subnet.outsider.ss58_address in error["detail"]


def test_foreign_coldkey_is_403(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.other_miner.coldkey.ss58_address)

    status, error = post(client, body)

    assert status == 403
    assert error["code"] == "coldkey_mismatch"


def test_replayed_signature_is_refused_the_second_time(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)

    first, _ = post(client, body)
    second, error = post(client, body)

    assert first == 200
    assert second == 401
    assert error["code"] == "replayed"


def test_replay_protection_can_be_turned_off(
    make_settings: SettingsFactory, subnet: Subnet
) -> None:
    from app.main import create_app

    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    with TestClient(create_app(make_settings(replay_protection=False))) as client:
        assert post(client, body)[0] == 200
        assert post(client, body)[0] == 200


def test_signature_for_x_does_not_grant_reddit(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address, "x")
    body["source"] = "reddit"

    status, error = post(client, body)

    assert status == 401
    assert error["code"] == "bad_signature"


def test_refused_signature_is_not_consumed(client: TestClient, subnet: Subnet) -> None:
    # A request refused for its coldkey must not burn the signature's one use.
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    tampered = dict(body, coldkey=subnet.other_miner.coldkey.ss58_address)

    assert post(client, tampered)[0] == 401
    assert post(client, body)[0] == 200


def test_signature_by_another_hotkey_is_401(client: TestClient, subnet: Subnet) -> None:
    coldkey = subnet.miner.coldkey.ss58_address
    body = miner_body(subnet.other_miner.hotkey, coldkey)
    body["hotkey"] = subnet.miner.hotkey.ss58_address

    status, error = post(client, body)

    assert status == 401
    assert error["code"] == "bad_signature"


def test_source_outside_allow_list_is_403(make_settings: SettingsFactory, subnet: Subnet) -> None:
    from app.main import create_app

    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address, "youtube")
    with TestClient(create_app(make_settings())) as client:
        status, error = post(client, body)

    assert status == 403
    assert error["code"] == "source_not_allowed"
    assert "x, reddit" in error["detail"]


@pytest.mark.parametrize("age", [301, 10_000])
def test_old_timestamp_is_400_with_server_time(
    client: TestClient, subnet: Subnet, age: int
) -> None:
    body = miner_body(
        subnet.miner.hotkey, subnet.miner.coldkey.ss58_address, timestamp=int(time.time()) - age
    )

    status, error = post(client, body)

    assert status == 400
    assert error["code"] == "stale_timestamp"
    assert abs(error["server_time"] - time.time()) < 60


def test_future_timestamp_is_400(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(
        subnet.miner.hotkey, subnet.miner.coldkey.ss58_address, timestamp=int(time.time()) + 120
    )

    status, error = post(client, body)

    assert status == 400
    assert error["code"] == "stale_timestamp"


def test_expiry_shortens_the_grant(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(
        subnet.miner.hotkey, subnet.miner.coldkey.ss58_address, expiry=int(time.time()) + 600
    )

    status, grant = post(client, body)

    assert status == 200
    assert 590 <= grant["expiry_seconds"] <= 600
    assert "X-Amz-Expires=" + str(grant["expiry_seconds"]) in grant["list_url"]


def test_expiry_in_the_past_is_400(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(
        subnet.miner.hotkey, subnet.miner.coldkey.ss58_address, expiry=int(time.time()) - 5
    )

    status, error = post(client, body)

    assert status == 400
    assert error["code"] == "invalid_expiry"


MALFORMED_FIELDS = [
    ("coldkey", "5notanaddress", 400, "invalid_coldkey"),
    ("coldkey", "../../etc", 400, "invalid_coldkey"),
    ("hotkey", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ", 400, "invalid_hotkey"),
    ("source", "x/../reddit", 400, "invalid_source"),
    ("source", "..", 400, "invalid_source"),
    ("source", "x y", 400, "invalid_source"),
    ("source", "x\n", 400, "invalid_source"),
    ("source", "x\x00", 400, "invalid_source"),
    ("source", "", 400, "invalid_source"),
    ("signature", "zz" * 64, 400, "invalid_signature"),
    ("signature", "ab" * 63, 400, "invalid_signature"),
    ("signature", "0x" + "ab" * 65, 400, "invalid_signature"),
    ("timestamp", "yesterday", 422, "invalid_request"),
    ("timestamp", 10**400, 422, "invalid_request"),
    ("timestamp", -1, 422, "invalid_request"),
    ("expiry", 1e308, 422, "invalid_request"),
    ("coldkey", None, 422, "invalid_request"),
    ("coldkey", 12345, 422, "invalid_request"),
]


@pytest.mark.parametrize(("field", "value", "status", "code"), MALFORMED_FIELDS)
def test_malformed_field_is_refused_and_grants_nothing(
    client: TestClient, subnet: Subnet, field: str, value: Any, status: int, code: str
) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    body[field] = value

    response = client.post("/get-folder-access", content=json.dumps(body).encode())

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert "fields" not in response.json()


@pytest.mark.parametrize("missing", ["coldkey", "hotkey", "timestamp", "signature"])
def test_missing_field_is_422(client: TestClient, subnet: Subnet, missing: str) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    del body[missing]

    status, error = post(client, body)

    assert status == 422
    assert error["code"] == "invalid_request"
    assert error["detail"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b"null", b'"text"', b"\xff\xfe"])
def test_body_that_is_not_a_json_object_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post("/get-folder-access", content=raw)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_huge_integer_literal_is_400(client: TestClient, subnet: Subnet) -> None:
    # Python's int() would refuse (or crawl over) this many digits; the parser must not.
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    raw = json.dumps(body).replace(str(body["timestamp"]), "9" * 50_000).encode()

    response = client.post("/get-folder-access", content=raw)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_grant_body_over_64_kib_is_413(client: TestClient, subnet: Subnet) -> None:
    body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
    body["padding"] = "a" * (64 * 1024)

    status, error = post(client, body)

    assert status == 413
    assert error["code"] == "payload_too_large"


def test_any_body_over_256_kib_is_413_even_without_content_length(
    client: TestClient,
) -> None:
    def chunks():  # streamed, so no Content-Length header is sent
        for _ in range(300):
            yield b"a" * 1024

    response = client.post("/get-folder-access", content=chunks())

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/nope")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
