"""btauth/1 request signing (bittensor's signed-request standard), without the bittensor SDK.

The signed payload is newline-joined UTF-8: protocol, scheme, upper-case method, request
target (path and `?query` as sent), sha256 hex of the raw body, the nanosecond nonce, the
sender's SS58 and the receiver's (`-` when unbound). The service verifies with
`bittensor.http_auth.verify`; a test pins the two together.
"""

from __future__ import annotations

import hashlib
import time

from s3auth_client.signer import Signer

PROTOCOL = "btauth/1"
VERSION = "1"
SCHEME = "sr25519"
UNBOUND = "-"

HEADER_VERSION = "X-Bittensor-Version"
HEADER_HOTKEY = "X-Bittensor-Hotkey"
HEADER_RECEIVER = "X-Bittensor-Receiver"
HEADER_NONCE = "X-Bittensor-Nonce"
HEADER_CRYPTO = "X-Bittensor-Crypto"
HEADER_SIGNATURE = "X-Bittensor-Signature"


def btauth_payload(
    *,
    method: str,
    path: str,
    body: bytes,
    nonce_ns: int,
    sender: str,
    receiver: str | None,
    scheme: str = SCHEME,
) -> bytes:
    lines = (
        PROTOCOL,
        scheme,
        method.upper(),
        path,
        hashlib.sha256(body).hexdigest(),
        str(nonce_ns),
        sender,
        receiver or UNBOUND,
    )
    return "\n".join(lines).encode()


def btauth_headers(
    signer: Signer,
    *,
    method: str,
    path: str,
    body: bytes,
    receiver: str | None = None,
    nonce_ns: int | None = None,
) -> dict[str, str]:
    """Headers that sign one request; `path` is the request target exactly as sent."""
    nonce = time.time_ns() if nonce_ns is None else nonce_ns
    payload = btauth_payload(
        method=method,
        path=path,
        body=body,
        nonce_ns=nonce,
        sender=signer.ss58_address,
        receiver=receiver,
    )
    headers = {
        HEADER_VERSION: VERSION,
        HEADER_HOTKEY: signer.ss58_address,
        HEADER_NONCE: str(nonce),
        HEADER_SIGNATURE: "0x" + bytes(signer.sign(payload)).hex(),
    }
    if receiver is not None:
        headers[HEADER_RECEIVER] = receiver
    return headers
