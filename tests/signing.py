"""Builds requests signed the way deployed miners and validators sign them."""

from __future__ import annotations

import json
import time
from typing import Any

from bittensor import http_auth
from bittensor.sp_core import Keypair

from s3auth_client.legacy import miner_message, validator_message


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
