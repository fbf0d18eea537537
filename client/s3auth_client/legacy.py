"""The legacy body-signature messages: the exact UTF-8 strings deployed clients sign.

The service verifies against the same builders, so both sides import them from here.
"""

from __future__ import annotations


def miner_message(coldkey: str, source: str, timestamp: int) -> str:
    """`/get-folder-access`, seed era (the body names a source)."""
    return f"s3:access:{coldkey}:{source}:{timestamp}"


def hotkey_miner_message(coldkey: str, hotkey: str, timestamp: int) -> str:
    """`/get-folder-access`, hotkey era (no source: the folder is `data/hotkey=<hotkey>/`)."""
    return f"s3:data:access:{coldkey}:{hotkey}:{timestamp}"


def validator_message(timestamp: int) -> str:
    """`/get-validator-access`."""
    return f"s3:validator:access:{timestamp}"


def miner_listing_message(miner_hotkey: str, timestamp: int) -> str:
    """`/get-miner-specific-access` and `/get-miner-list`."""
    return f"s3:validator:miner:{miner_hotkey}:{timestamp}"


def miner_files_message(miner_hotkey: str, validator_hotkey: str, timestamp: int) -> str:
    """`/get-file-presigned-urls`."""
    return f"s3:validator:files:{miner_hotkey}:{validator_hotkey}:{timestamp}"
