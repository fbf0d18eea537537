"""Tao v2 signed-request headers, the scheme today's subnet-13 clients use on every call.

The signature covers `sha256(raw body).hexdigest() + "." + nonce + "." + timestamp_ms`,
so the bytes sent must be exactly the bytes signed.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid

from s3auth_client.signer import Signer

VERSION = "2"
HEADER_VERSION = "X-Tao-Version"
HEADER_TIMESTAMP = "X-Tao-Timestamp"
HEADER_NONCE = "X-Tao-Nonce"
HEADER_SIGNED_BY = "X-Tao-Signed-By"
HEADER_SIGNATURE = "X-Tao-Signature"


def tao_message(body: bytes, nonce: str, timestamp_ms: int | str) -> str:
    """The signed text; the service passes the timestamp header's own digits."""
    return f"{hashlib.sha256(body).hexdigest()}.{nonce}.{timestamp_ms}"


def tao_headers(
    signer: Signer,
    body: bytes,
    *,
    timestamp_ms: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The five headers that sign `body` (a GET signs b""); each call uses a fresh nonce."""
    when = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    once = str(uuid.uuid4()) if nonce is None else nonce
    signature = bytes(signer.sign(tao_message(body, once, when).encode()))
    return {
        HEADER_VERSION: VERSION,
        HEADER_TIMESTAMP: str(when),
        HEADER_NONCE: once,
        HEADER_SIGNED_BY: signer.ss58_address,
        HEADER_SIGNATURE: base64.b64encode(signature).decode(),
    }
