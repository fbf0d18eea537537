"""Parsing of the key material clients send: SS58 addresses and hex signatures."""

from __future__ import annotations

from bittensor.sp_core import ss58_decode

SIGNATURE_BYTES = 64


def is_ss58(address: str) -> bool:
    # Short-circuit on length: real addresses are 46-48 characters and decoding is not free.
    if not 40 <= len(address) <= 50 or not address.isascii() or not address.isalnum():
        return False
    try:
        ss58_decode(address)
    except ValueError:
        return False
    return True


def parse_signature(text: str) -> bytes | None:
    """The 64 signature bytes from hex with or without `0x`, or None if malformed."""
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if len(digits) != SIGNATURE_BYTES * 2:
        return None
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None
