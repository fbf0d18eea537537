"""Reads what a presigned POST policy allows, so files it would refuse are never sent."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PolicyLimits:
    min_bytes: int | None
    max_bytes: int | None
    key_prefix: str | None

    def refuses_size(self, size: int) -> str | None:
        """Why a file of `size` bytes cannot be uploaded, or None if it can."""
        if self.min_bytes is not None and size < self.min_bytes:
            return f"{size} bytes is under the policy's minimum of {self.min_bytes} bytes"
        if self.max_bytes is not None and size > self.max_bytes:
            return f"{size} bytes is over the policy's maximum of {self.max_bytes} bytes"
        return None


def decode_policy(fields: dict[str, str]) -> dict[str, Any] | None:
    encoded = fields.get("policy") or fields.get("Policy")
    if not encoded:
        return None
    try:
        policy = json.loads(base64.b64decode(encoded))
    except (binascii.Error, ValueError):
        return None
    return policy if isinstance(policy, dict) else None


def encode_policy(policy: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(policy).encode()).decode()


def policy_limits(fields: dict[str, str], grant: dict[str, Any]) -> PolicyLimits:
    """Limits from the signed policy itself; the grant's own numbers only fill gaps."""
    min_bytes = _int_or_none(grant.get("min_bytes"))
    max_bytes = _int_or_none(grant.get("max_bytes"))
    prefix: str | None = None
    policy = decode_policy(fields) or {}
    for condition in policy.get("conditions", []):
        if not isinstance(condition, list) or len(condition) != 3:
            continue
        name = str(condition[0]).lower()
        if name == "content-length-range":
            min_bytes, max_bytes = _int_or_none(condition[1]), _int_or_none(condition[2])
        elif name == "starts-with" and condition[1] == "$key":
            prefix = str(condition[2])
    return PolicyLimits(min_bytes, max_bytes, prefix)


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
