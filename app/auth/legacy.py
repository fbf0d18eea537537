"""The legacy body signature: freshness and sr25519 verification.

Deployed miners and validators sign the exact UTF-8 strings built in
`s3auth_client.legacy` and send the hex signature in the JSON body; the client and the
service share those builders.
"""

from __future__ import annotations

from app.auth.keys import sr25519_signature_is_valid
from s3auth_client.legacy import (
    hotkey_miner_message,
    miner_files_message,
    miner_listing_message,
    miner_message,
    validator_message,
)

__all__ = [
    "MAX_FUTURE_SKEW_SECONDS",
    "hotkey_miner_message",
    "miner_files_message",
    "miner_listing_message",
    "miner_message",
    "signature_is_valid",
    "timestamp_is_fresh",
    "validator_message",
]

# How far ahead of the server's clock a timestamp may be (clients' clocks drift).
MAX_FUTURE_SKEW_SECONDS = 60


def timestamp_is_fresh(timestamp: int, now: float, max_age_seconds: float) -> bool:
    return now - max_age_seconds <= timestamp <= now + MAX_FUTURE_SKEW_SECONDS


def signature_is_valid(hotkey: str, message: str, signature: bytes) -> bool:
    return sr25519_signature_is_valid(hotkey, message.encode(), signature)
