"""`X-API-Key` checks for customers and admins: constant time, every key compared."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from pydantic import SecretStr

from app.errors import AuthFailed


def key_matches(given: str | None, keys: Sequence[SecretStr]) -> bool:
    if not given:
        return False
    offered = given.encode()
    matched = False
    # No early exit: the time taken does not tell which key, or how much of one, matched.
    for key in keys:
        matched |= hmac.compare_digest(offered, key.get_secret_value().encode())
    return matched


def require_key(given: str | None, keys: Sequence[SecretStr], *, who: str) -> None:
    if not key_matches(given, keys):
        raise AuthFailed(f"A valid X-API-Key header of {who} is required.", code="invalid_api_key")


def key_fingerprint(key: str) -> str:
    """What is stored of a customer key to tell its jobs apart: a hash, never the key."""
    return hashlib.sha256(b"s3auth-customer:" + key.encode()).hexdigest()[:32]
