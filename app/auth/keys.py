"""Parsing of the key material clients send: SS58 addresses and hex signatures."""

from __future__ import annotations

from s3auth_client.ss58 import is_ss58

__all__ = ["SIGNATURE_BYTES", "is_ss58", "parse_signature"]

SIGNATURE_BYTES = 64


def parse_signature(text: str) -> bytes | None:
    """The 64 signature bytes from hex with or without `0x`, or None if malformed."""
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if len(digits) != SIGNATURE_BYTES * 2:
        return None
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None
