"""Prints the worked examples of docs/protocol.md: the exact bytes each scheme signs.

    .venv/bin/python docs/signing_examples.py

Keys are the public development keys //Alice (a hotkey) and //Bob (its coldkey); times
and nonces are fixed, so every message and hash printed here is reproducible. sr25519
signatures are randomized: the signature differs on every run, and each one is verified.
"""

from __future__ import annotations

import base64
import hashlib
import json

from bittensor import http_auth
from bittensor.sp_core import Keypair

HOTKEY = Keypair.create_from_uri("//Alice")
COLDKEY = Keypair.create_from_uri("//Bob")
MINER_HOTKEY = Keypair.create_from_uri("//Dave").ss58_address
TIMESTAMP = 1795541581  # unix seconds (legacy)
TIMESTAMP_MS = "1795541581123"  # unix milliseconds (Tao v2), as sent
NONCE = "2f1d3c4b-5a69-4788-9b0c-1d2e3f405162"  # a UUID4 (Tao v2)
NONCE_NS = 1795541581123456789  # unix nanoseconds (btauth/1)
UPLOAD_BODY = {
    "job_id": "default_0",
    "filename": "data_20261124_101500_1200_0123456789abcdef.parquet",
}


def legacy_messages() -> dict[str, str]:
    hotkey, coldkey = HOTKEY.ss58_address, COLDKEY.ss58_address
    return {
        "/get-folder-access (seed era, body has source)": f"s3:access:{coldkey}:x:{TIMESTAMP}",
        "/get-folder-access (hotkey era, no source)": (
            f"s3:data:access:{coldkey}:{hotkey}:{TIMESTAMP}"
        ),
        "/get-validator-access": f"s3:validator:access:{TIMESTAMP}",
        "/get-miner-specific-access, /get-miner-list": (
            f"s3:validator:miner:{MINER_HOTKEY}:{TIMESTAMP}"
        ),
        "/get-file-presigned-urls": f"s3:validator:files:{MINER_HOTKEY}:{hotkey}:{TIMESTAMP}",
    }


def compact(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def spaced(body: object) -> bytes:
    return json.dumps(body).encode()


def tao_message(raw_body: bytes, nonce: str = NONCE, timestamp_ms: str = TIMESTAMP_MS) -> str:
    return f"{hashlib.sha256(raw_body).hexdigest()}.{nonce}.{timestamp_ms}"


def btauth_payload(raw_body: bytes) -> bytes:
    return http_auth.build_payload(
        scheme="sr25519",
        method="POST",
        path="/get-file-upload-url",
        body=raw_body,
        nonce_ns=NONCE_NS,
        sender_ss58=HOTKEY.ss58_address,
        receiver_ss58=None,
    )


def verified(message: bytes, signature: bytes) -> bool:
    return bool(Keypair(ss58_address=HOTKEY.ss58_address).verify(message, signature))


def main() -> None:
    print(f"hotkey  //Alice  {HOTKEY.ss58_address}")
    print(f"coldkey //Bob    {COLDKEY.ss58_address}")
    print(f"miner   //Dave   {MINER_HOTKEY}\n")

    print("== Legacy body signature: UTF-8 bytes of the message ==")
    for endpoint, message in legacy_messages().items():
        signature = bytes(HOTKEY.sign(message.encode()))
        print(f"{endpoint}\n  message  {message}")
        print(f"  verifies {verified(message.encode(), signature)}")
        print(f"  hex      {signature.hex()[:32]}... (128 hex characters)")

    print("\n== Tao v2 headers ==")
    for name, raw in (
        ("compact JSON", compact(UPLOAD_BODY)),
        ("json.dumps default", spaced(UPLOAD_BODY)),
        ("empty body (GET)", b""),
    ):
        message = tao_message(raw)
        signature = bytes(HOTKEY.sign(message.encode()))
        print(f"{name}\n  body     {raw.decode()!r}")
        print(f"  sha256   {hashlib.sha256(raw).hexdigest()}")
        print(f"  message  {message}")
        print(f"  base64   {base64.b64encode(signature).decode()[:24]}... (88 characters)")
        print(f"  verifies {verified(message.encode(), signature)}")

    print("\n== btauth/1 payload (newline-joined) ==")
    payload = btauth_payload(compact(UPLOAD_BODY))
    signature = bytes(HOTKEY.sign(payload))
    print(payload.decode())
    print(f"-- {len(payload)} bytes; verifies {verified(payload, signature)}")


if __name__ == "__main__":
    main()
