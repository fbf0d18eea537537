"""SS58 addresses (Substrate's base58 key encoding), in pure Python.

Both the client and the service check addresses with this module, so neither needs
the bittensor SDK for it.
"""

from __future__ import annotations

import hashlib

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGITS = {char: value for value, char in enumerate(ALPHABET)}
_CHECKSUM_SALT = b"SS58PRE"
PUBLIC_KEY_BYTES = 32
# Bittensor's network prefix (the generic Substrate one).
BITTENSOR_PREFIX = 42


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _DIGITS.get(char)
        if digit is None:
            raise ValueError(f"{char!r} is not a base58 digit")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading = len(text) - len(text.lstrip(ALPHABET[0]))
    return b"\x00" * leading + body


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(ALPHABET[digit])
    leading = len(data) - len(data.lstrip(b"\x00"))
    return ALPHABET[0] * leading + "".join(reversed(digits))


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(_CHECKSUM_SALT + payload, digest_size=64).digest()[:2]


def ss58_decode(address: str) -> tuple[int, bytes]:
    """The network prefix and the 32-byte public key of `address`; ValueError if invalid."""
    raw = _b58decode(address)
    if not raw:
        raise ValueError("empty address")
    if raw[0] < 64:
        prefix, prefix_len = raw[0], 1
    elif raw[0] < 128 and len(raw) > 1:
        first, second = raw[0], raw[1]
        prefix = ((first & 0x3F) << 2) | (second >> 6) | ((second & 0x3F) << 8)
        prefix_len = 2
    else:
        raise ValueError("invalid address prefix")
    if len(raw) != prefix_len + PUBLIC_KEY_BYTES + 2:
        raise ValueError("an address holds a 32-byte public key")
    payload, checksum = raw[:-2], raw[-2:]
    if _checksum(payload) != checksum:
        raise ValueError("address checksum does not match")
    return prefix, payload[prefix_len:]


def ss58_encode(public_key: bytes, prefix: int = BITTENSOR_PREFIX) -> str:
    """The address of a 32-byte public key under a one-byte network prefix (0..63)."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError("a public key is 32 bytes")
    if not 0 <= prefix < 64:
        raise ValueError("only one-byte prefixes (0..63) are supported")
    payload = bytes([prefix]) + public_key
    return _b58encode(payload + _checksum(payload))


def is_ss58(address: str) -> bool:
    # Short-circuit on shape: real addresses are 46-48 characters and decoding is not free.
    if not 40 <= len(address) <= 50 or not address.isascii() or not address.isalnum():
        return False
    try:
        ss58_decode(address)
    except ValueError:
        return False
    return True
