"""Parsing of the key material clients send: SS58 addresses, hex signatures, weak keys."""

from __future__ import annotations

from functools import lru_cache

from bittensor.sp_core import CRYPTO_SR25519, ss58_decode, verify

from s3auth_client.ss58 import is_ss58 as _is_ss58

__all__ = [
    "SIGNATURE_BYTES",
    "is_ss58",
    "parse_signature",
    "public_key_is_weak",
    "sr25519_signature_is_valid",
]

SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32

# sr25519 keys are Ristretto255 points, a group of prime order: its only small-order
# element is the identity, and the identity's only canonical encoding is 32 zero bytes
# (the torsion points of the underlying curve all encode to it). With the identity as
# public key, the signature (R = identity, s = 0) satisfies s*B = R + c*A for every
# message, so anyone could sign as that "hotkey". Non-canonical encodings of the
# identity are already refused by the decoder (tests/auth/test_weak_keys.py pins that).
IDENTITY_ENCODING = bytes(PUBLIC_KEY_BYTES)
# The same few hundred hotkeys and coldkeys arrive again and again: their checks are
# remembered in bounded caches. Only strings of an address's length are remembered, so
# nobody can fill the caches with long header values (an SS58 address is 47-48 characters).
KNOWN_ADDRESSES = 8192
MAX_ADDRESS_LENGTH = 64


@lru_cache(maxsize=KNOWN_ADDRESSES)
def _remembered_is_ss58(address: str) -> bool:
    return _is_ss58(address)


def is_ss58(address: str) -> bool:
    """True for a well-formed SS58 address (checksum included)."""
    if len(address) > MAX_ADDRESS_LENGTH:
        return False
    return _remembered_is_ss58(address)


def public_key_is_weak(address: str) -> bool:
    """True for a hotkey whose signatures anyone can forge (an address that does not
    decode is not weak: no signature verifies for it anyway)."""
    if len(address) > MAX_ADDRESS_LENGTH:
        return False
    return _remembered_key_is_weak(address)


@lru_cache(maxsize=KNOWN_ADDRESSES)
def _remembered_key_is_weak(address: str) -> bool:
    try:
        public_key = ss58_decode(address)
    except ValueError:
        return False
    return len(public_key) != PUBLIC_KEY_BYTES or public_key == IDENTITY_ENCODING


def sr25519_signature_is_valid(address: str, message: bytes, signature: bytes) -> bool:
    """The one sr25519 check every signature scheme goes through; weak keys never pass."""
    if public_key_is_weak(address):
        return False
    try:
        return bool(verify(message, signature, address, CRYPTO_SR25519))
    except ValueError:
        return False


def parse_signature(text: str) -> bytes | None:
    """The 64 signature bytes from hex with or without `0x`, or None if malformed."""
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if len(digits) != SIGNATURE_BYTES * 2:
        return None
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None
