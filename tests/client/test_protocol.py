"""The light package's protocol pieces agree byte for byte with the SDK the service uses."""

from __future__ import annotations

import base64
import json

import pytest
from bittensor import http_auth
from bittensor.sp_core import ss58_decode as sdk_decode
from bittensor.sp_core import ss58_encode as sdk_encode

from s3auth_client.btauth import btauth_headers
from s3auth_client.identity import Identity
from s3auth_client.legacy import (
    hotkey_miner_message,
    miner_files_message,
    miner_listing_message,
    miner_message,
    validator_message,
)
from s3auth_client.ss58 import is_ss58, ss58_decode, ss58_encode
from s3auth_client.tao import tao_headers, tao_message
from tests.signing import key

NAMES = ["alice", "bob", "miner-hot", "validator-hot", "zz"]


@pytest.mark.parametrize("name", NAMES)
def test_ss58_decode_and_encode_match_the_sdk(name: str) -> None:
    address = key(name).ss58_address
    prefix, public = ss58_decode(address)

    assert prefix == 42
    assert public == bytes(sdk_decode(address))
    assert ss58_encode(public) == address == sdk_encode(public, ss58_format=42)


def test_all_zero_public_key_encodes_as_the_sdk_does() -> None:
    assert ss58_encode(bytes(32)) == sdk_encode(bytes(32), ss58_format=42)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not an address",
        key("alice").ss58_address[:-1] + ("A" if key("alice").ss58_address[-1] != "A" else "B"),
        key("alice").ss58_address[:-2],
        "0" * 48,  # not a base58 digit
        "1" * 48,
    ],
)
def test_malformed_addresses_are_not_ss58(text: str) -> None:
    assert not is_ss58(text)


def test_legacy_messages_are_the_contract_strings() -> None:
    assert miner_message("C", "x", 7) == "s3:access:C:x:7"
    assert hotkey_miner_message("C", "H", 7) == "s3:data:access:C:H:7"
    assert validator_message(7) == "s3:validator:access:7"
    assert miner_listing_message("M", 7) == "s3:validator:miner:M:7"
    assert miner_files_message("M", "H", 7) == "s3:validator:files:M:H:7"


@pytest.mark.parametrize("receiver", [None, "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"])
def test_btauth_headers_verify_with_the_sdk(receiver: str | None) -> None:
    hotkey = key("miner-hot")
    body = json.dumps({"a": 1}).encode()
    headers = btauth_headers(
        hotkey, method="post", path="/list-files?x=1", body=body, receiver=receiver
    )

    caller = http_auth.verify(
        headers,
        body,
        method="POST",
        path="/list-files?x=1",
        self_hotkey_ss58=receiver or "",
        require_receiver=receiver is not None,
        nonce_store=http_auth.InMemoryNonceStore(),
    )
    assert caller.hotkey_ss58 == hotkey.ss58_address


def test_btauth_signature_does_not_verify_for_another_body() -> None:
    hotkey = key("miner-hot")
    headers = btauth_headers(hotkey, method="POST", path="/p", body=b"{}")

    with pytest.raises(http_auth.BadSignature):
        http_auth.verify(
            headers, b"{ }", method="POST", path="/p", self_hotkey_ss58="", require_receiver=False
        )


def test_tao_headers_sign_body_hash_nonce_and_milliseconds() -> None:
    hotkey = key("miner-hot")
    body = b'{"job_id": "j1", "filename": "f"}'

    headers = tao_headers(hotkey, body, timestamp_ms=1_700_000_000_123, nonce="n-1")

    assert headers["X-Tao-Version"] == "2"
    assert headers["X-Tao-Timestamp"] == "1700000000123"
    assert headers["X-Tao-Nonce"] == "n-1"
    assert headers["X-Tao-Signed-By"] == hotkey.ss58_address
    signature = base64.b64decode(headers["X-Tao-Signature"])
    message = tao_message(body, "n-1", 1_700_000_000_123)
    assert hotkey.verify(message.encode(), signature)
    assert not hotkey.verify(tao_message(body + b" ", "n-1", 1_700_000_000_123).encode(), signature)


def test_identity_tao_headers_use_a_fresh_uuid_nonce_and_the_clock_offset() -> None:
    identity = Identity(key("miner-hot"))

    first, second = identity.tao_headers(b""), identity.tao_headers(b"", clock_offset_ms=-60_000)

    assert first["X-Tao-Nonce"] != second["X-Tao-Nonce"]
    assert len(first["X-Tao-Nonce"]) == 36
    assert 59_000 < int(first["X-Tao-Timestamp"]) - int(second["X-Tao-Timestamp"]) < 61_000
