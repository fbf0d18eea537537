"""Tao v2 signed headers: what every call of today's subnet-13 clients carries.

The signer's hotkey signs `sha256(body).hexdigest() + "." + nonce + "." + timestamp_ms`,
where the body is hashed exactly as received and nonce and timestamp are the header
strings. Neither the path nor the method is signed, so a nonce must be single-use
across every endpoint, not per route.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from app.auth.keys import SIGNATURE_BYTES, is_ss58
from app.auth.legacy import MAX_FUTURE_SKEW_SECONDS
from app.errors import BadRequest
from s3auth_client.tao import tao_message

HEADER_VERSION = "x-tao-version"
HEADER_TIMESTAMP = "x-tao-timestamp"
HEADER_NONCE = "x-tao-nonce"
HEADER_SIGNED_BY = "x-tao-signed-by"
HEADER_SIGNATURE = "x-tao-signature"
HEADERS = (HEADER_VERSION, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNED_BY, HEADER_SIGNATURE)
# A millisecond timestamp of the next few centuries has 13-14 digits.
MAX_TIMESTAMP_DIGITS = 15


def has_tao_headers(headers: Mapping[str, str]) -> bool:
    return HEADER_SIGNATURE in headers or HEADER_SIGNED_BY in headers


@dataclass(frozen=True, slots=True)
class TaoClaim:
    """What the headers say, parsed and checked for shape and freshness, not yet verified."""

    hotkey: str
    nonce: str
    signed_at: float
    message: str
    signature: bytes


def decode_signature(text: str) -> bytes | None:
    """64 bytes from base64 (what clients send) or 128 hex digits, else None.

    Hex is tried first when the text is exactly hex of the right length: 128 hex digits
    are also valid base64 and would decode to 96 wrong bytes.
    """
    if len(text) == SIGNATURE_BYTES * 2:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == SIGNATURE_BYTES else None


def parse_tao_headers(
    headers: Mapping[str, str], body: bytes, *, now: float, max_age_seconds: float
) -> TaoClaim:
    missing = [name for name in HEADERS if name not in headers]
    if missing:
        names = ", ".join(name.title() for name in missing)
        raise BadRequest(f"Tao v2 headers are incomplete: {names} missing.", code="malformed_auth")
    if headers[HEADER_VERSION].strip() != "2":
        raise BadRequest("X-Tao-Version must be 2.", code="malformed_auth")
    timestamp = headers[HEADER_TIMESTAMP]
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        raise BadRequest(
            "X-Tao-Timestamp must be unix milliseconds as digits.", code="malformed_auth"
        )
    signed_at = int(timestamp) / 1000
    if not now - max_age_seconds <= signed_at <= now + MAX_FUTURE_SKEW_SECONDS:
        raise BadRequest(
            f"X-Tao-Timestamp is outside the accepted window ({max_age_seconds:g} s old to "
            f"{MAX_FUTURE_SKEW_SECONDS} s ahead); sign a fresh request.",
            code="stale_timestamp",
            server_time=int(now),
        )
    nonce = headers[HEADER_NONCE]
    try:
        if len(nonce) > 64:
            raise ValueError
        uuid.UUID(nonce)
    except ValueError:
        raise BadRequest("X-Tao-Nonce must be a UUID.", code="malformed_auth") from None
    hotkey = headers[HEADER_SIGNED_BY]
    if not is_ss58(hotkey):
        raise BadRequest("X-Tao-Signed-By is not a valid SS58 address.", code="invalid_hotkey")
    signature = decode_signature(headers[HEADER_SIGNATURE])
    if signature is None:
        raise BadRequest(
            "X-Tao-Signature must be 64 bytes as base64 (or 128 hex digits).",
            code="invalid_signature",
        )
    return TaoClaim(hotkey, nonce, signed_at, tao_message(body, nonce, timestamp), signature)
