"""Public keys that sign every message are refused, whatever the metagraph says."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bittensor import http_auth
from bittensor.sp_core import CRYPTO_ED25519, CRYPTO_SR25519, ss58_encode, verify
from fastapi.testclient import TestClient

from app.auth.keys import public_key_is_weak, sr25519_signature_is_valid
from app.auth.legacy import signature_is_valid, validator_message
from tests.conftest import SettingsFactory, Subnet
from tests.probes import VALIDATOR_PROBE, app_with_validator_probe

P = 2**255 - 19
# The sr25519 identity key, and the signature (R = identity, s = 0) that verifies under it.
ZERO_KEY = ss58_encode(bytes(32), 42)
IDENTITY_SIGNATURE = bytes(63) + b"\x80"
# An ed25519 small-order key (the curve's identity point) and a signature it accepts.
ED25519_IDENTITY = ss58_encode((1).to_bytes(32, "little"), 42)
ED25519_FORGERY = (1).to_bytes(32, "little") + bytes(32)


def test_the_identity_key_verifies_any_message_in_sp_core() -> None:
    """The attack the refusal closes: without it this key signs everything."""
    for message in (b"s3:validator:access:1", b"anything else"):
        assert verify(message, IDENTITY_SIGNATURE, ZERO_KEY, CRYPTO_SR25519)
        assert verify(message, ED25519_FORGERY, ED25519_IDENTITY, CRYPTO_ED25519)


def test_identity_key_never_verifies_through_our_check() -> None:
    assert public_key_is_weak(ZERO_KEY)
    assert not sr25519_signature_is_valid(ZERO_KEY, b"m", IDENTITY_SIGNATURE)
    assert not signature_is_valid(ZERO_KEY, validator_message(1), IDENTITY_SIGNATURE)


@pytest.mark.parametrize(
    "encoding",
    [
        P.to_bytes(32, "little"),  # p reduces to zero: a non-canonical identity
        (P + 2).to_bytes(32, "little"),
        bytes(31) + b"\x80",  # the sign bit set on zero
        b"\xff" * 32,
    ],
)
def test_non_canonical_identity_encodings_are_refused_by_the_decoder(encoding: bytes) -> None:
    address = ss58_encode(encoding, 42)
    assert not verify(b"m", IDENTITY_SIGNATURE, address, CRYPTO_SR25519)
    assert not sr25519_signature_is_valid(address, b"m", IDENTITY_SIGNATURE)


def test_real_keys_are_not_weak(subnet: Subnet) -> None:
    assert not public_key_is_weak(subnet.validator.hotkey.ss58_address)


@pytest.fixture
def weak_client(
    tmp_path: Path, subnet: Subnet, make_settings: SettingsFactory
) -> Iterator[TestClient]:
    """A metagraph where the weak keys are registered validators with plenty of stake."""
    metagraph = subnet.metagraph()
    for uid, hotkey in ((10, ZERO_KEY), (11, ED25519_IDENTITY)):
        metagraph["neurons"].append(
            {
                "uid": uid,
                "hotkey": hotkey,
                "coldkey": subnet.validator.coldkey.ss58_address,
                "validator_permit": True,
                "stake": 1e9,
            }
        )
    path = tmp_path / "weak-metagraph.json"
    path.write_text(json.dumps(metagraph))
    with TestClient(app_with_validator_probe(make_settings(metagraph_file=path))) as client:
        yield client


def forged_btauth(hotkey: str, signature: bytes, crypto: str | None = None) -> dict[str, str]:
    headers = {
        http_auth.HEADER_VERSION: "1",
        http_auth.HEADER_HOTKEY: hotkey,
        http_auth.HEADER_NONCE: str(time.time_ns()),
        http_auth.HEADER_SIGNATURE: "0x" + signature.hex(),
    }
    if crypto is not None:
        headers[http_auth.HEADER_CRYPTO] = crypto
    return headers


def test_legacy_body_signed_by_identity_key_is_401(weak_client: TestClient) -> None:
    ts = int(time.time())
    body = {"hotkey": ZERO_KEY, "timestamp": ts, "signature": IDENTITY_SIGNATURE.hex()}

    response = weak_client.post(VALIDATOR_PROBE, json=body)

    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


def test_btauth_signed_by_identity_key_is_401(weak_client: TestClient) -> None:
    headers = forged_btauth(ZERO_KEY, IDENTITY_SIGNATURE)

    response = weak_client.post(VALIDATOR_PROBE, content=b"{}", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


@pytest.mark.parametrize("crypto", ["ed25519", "ED25519", "secp256k1"])
def test_btauth_with_a_scheme_other_than_sr25519_is_401(
    weak_client: TestClient, crypto: str
) -> None:
    headers = forged_btauth(ED25519_IDENTITY, ED25519_FORGERY, crypto)

    response = weak_client.post(VALIDATOR_PROBE, content=b"{}", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "unsupported_crypto"


def test_btauth_declaring_sr25519_explicitly_still_works(
    weak_client: TestClient, subnet: Subnet
) -> None:
    raw = b"{}"
    headers = http_auth.sign(subnet.validator.hotkey, method="POST", path=VALIDATOR_PROBE, body=raw)
    headers[http_auth.HEADER_CRYPTO] = "sr25519"

    response = weak_client.post(VALIDATOR_PROBE, content=raw, headers=headers)

    assert response.status_code == 200, response.text


def test_tao_v2_signed_by_identity_key_is_401(weak_client: TestClient) -> None:
    headers = {
        "X-Tao-Version": "2",
        "X-Tao-Timestamp": str(round(time.time() * 1000)),
        "X-Tao-Nonce": str(uuid.uuid4()),
        "X-Tao-Signed-By": ZERO_KEY,
        "X-Tao-Signature": base64.b64encode(IDENTITY_SIGNATURE).decode(),
    }

    response = weak_client.post(VALIDATOR_PROBE, content=b"{}", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
