"""The legacy body signature: message formats and sr25519 verification.

Deployed miners and validators sign these exact UTF-8 strings with their hotkey and
send the hex signature in the JSON body. Client code imports the builders from here,
so this module must not pull in the server's web stack.
"""

from __future__ import annotations

from app.auth.keys import sr25519_signature_is_valid

# How far ahead of the server's clock a timestamp may be (clients' clocks drift).
MAX_FUTURE_SKEW_SECONDS = 60


def miner_message(coldkey: str, source: str, timestamp: int) -> str:
    return f"s3:access:{coldkey}:{source}:{timestamp}"


def hotkey_miner_message(coldkey: str, hotkey: str, timestamp: int) -> str:
    """`/get-folder-access` of hotkey-era miners (no `source` in the body)."""
    return f"s3:data:access:{coldkey}:{hotkey}:{timestamp}"


def validator_message(timestamp: int) -> str:
    return f"s3:validator:access:{timestamp}"


def miner_listing_message(miner_hotkey: str, timestamp: int) -> str:
    """`/get-miner-specific-access` and `/get-miner-list`."""
    return f"s3:validator:miner:{miner_hotkey}:{timestamp}"


def miner_files_message(miner_hotkey: str, validator_hotkey: str, timestamp: int) -> str:
    """`/get-file-presigned-urls`."""
    return f"s3:validator:files:{miner_hotkey}:{validator_hotkey}:{timestamp}"


def timestamp_is_fresh(timestamp: int, now: float, max_age_seconds: float) -> bool:
    return now - max_age_seconds <= timestamp <= now + MAX_FUTURE_SKEW_SECONDS


def signature_is_valid(hotkey: str, message: str, signature: bytes) -> bool:
    return sr25519_signature_is_valid(hotkey, message.encode(), signature)
