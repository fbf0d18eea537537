"""The legacy body signature: exact message formats, hex parsing and sr25519 checks."""

from __future__ import annotations

import pytest

from app.auth.keys import is_ss58, parse_signature
from app.auth.legacy import (
    miner_message,
    signature_is_valid,
    timestamp_is_fresh,
    validator_message,
)
from tests.signing import key


def test_message_formats_are_the_deployed_ones() -> None:
    assert miner_message("5Cold", "x", 1700000000) == "s3:access:5Cold:x:1700000000"
    assert validator_message(1700000000) == "s3:validator:access:1700000000"


def test_signature_verifies_only_for_its_message_and_hotkey() -> None:
    alice, bob = key("alice"), key("bob")
    message = miner_message(bob.ss58_address, "x", 1)
    signature = bytes(alice.sign(message.encode()))

    assert signature_is_valid(alice.ss58_address, message, signature)
    assert not signature_is_valid(bob.ss58_address, message, signature)
    assert not signature_is_valid(alice.ss58_address, message + "0", signature)


def test_garbage_signature_bytes_do_not_raise() -> None:
    assert not signature_is_valid(key("alice").ss58_address, "m", b"\x00" * 64)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("ab" * 64, True),
        ("0x" + "ab" * 64, True),
        ("0X" + "AB" * 64, True),
        ("ab" * 63, False),
        ("xy" * 64, False),
        ("", False),
        ("0x", False),
    ],
)
def test_signature_hex_parsing(text: str, valid: bool) -> None:
    parsed = parse_signature(text)

    assert (parsed is not None) == valid
    if valid:
        assert parsed is not None and len(parsed) == 64


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        (key("alice").ss58_address, True),
        (key("alice").ss58_address[:-1] + "Z", False),  # checksum broken
        ("5" * 48, False),
        ("", False),
        ("5Grw/../", False),
        ("\uff15" * 48, False),
    ],
)
def test_ss58_validation(address: str, valid: bool) -> None:
    assert is_ss58(address) == valid


@pytest.mark.parametrize(
    ("offset", "fresh"), [(0, True), (-300, True), (-301, False), (60, True), (61, False)]
)
def test_timestamp_window(offset: int, fresh: bool) -> None:
    now = 1_700_000_000.0
    assert timestamp_is_fresh(int(now) + offset, now, 300) == fresh
