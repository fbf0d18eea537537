"""Builds requests signed the way deployed miners and validators sign them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from bittensor import http_auth
from bittensor.sp_core import Keypair

from s3auth_client.legacy import miner_message, validator_message
from s3auth_client.tao import tao_message


def key(name: str) -> Keypair:
    return Keypair.create_from_uri(f"//{name}")


def sign_hex(keypair: Keypair, message: str, *, prefix: str = "0x") -> str:
    return prefix + bytes(keypair.sign(message.encode())).hex()


def miner_body(
    hotkey: Keypair,
    coldkey: str,
    source: str = "x",
    *,
    timestamp: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "coldkey": coldkey,
        "hotkey": hotkey.ss58_address,
        "source": source,
        "timestamp": ts,
        "signature": sign_hex(hotkey, miner_message(coldkey, source, ts)),
        **extra,
    }


def validator_body(
    hotkey: Keypair, *, timestamp: int | None = None, **extra: Any
) -> dict[str, Any]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "hotkey": hotkey.ss58_address,
        "timestamp": ts,
        "signature": sign_hex(hotkey, validator_message(ts)),
        **extra,
    }


def btauth_request(
    hotkey: Keypair, path: str, body: dict[str, Any], *, receiver: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of a btauth/1 signed POST."""
    raw = json.dumps(body).encode()
    headers = http_auth.sign(hotkey, method="POST", path=path, body=raw, receiver_ss58=receiver)
    headers["Content-Type"] = "application/json"
    return raw, headers


def tao_headers(
    hotkey: Keypair,
    body: bytes = b"",
    *,
    nonce: str | None = None,
    timestamp_ms: int | None = None,
    hex_signature: bool = False,
) -> dict[str, str]:
    """The five X-Tao-* headers today's clients send, signing `body` exactly as given."""
    nonce = str(uuid.uuid4()) if nonce is None else nonce
    ts = str(round(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    signature = bytes(hotkey.sign(tao_message(body, nonce, ts)))
    encoded = signature.hex() if hex_signature else base64.b64encode(signature).decode()
    return {
        "X-Tao-Version": "2",
        "X-Tao-Timestamp": ts,
        "X-Tao-Nonce": nonce,
        "X-Tao-Signed-By": hotkey.ss58_address,
        "X-Tao-Signature": encoded,
    }


def compact(body: dict[str, Any]) -> bytes:
    """JSON as pydantic's `model_dump_json` writes it: no spaces."""
    return json.dumps(body, separators=(",", ":")).encode()


def spaced(body: dict[str, Any]) -> bytes:
    """JSON as `json.dumps` writes it by default: `", "` and `": "`."""
    return json.dumps(body).encode()
