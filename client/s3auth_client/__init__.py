"""s3auth client: miners' uploads, validators' listings and downloads, operators' checks.

A small distribution of its own (`s3auth-client`): it needs httpx2 and
`bittensor_wallet`, never the service's web stack nor the full bittensor SDK.
The names below load on first use, so the service can import the protocol modules
(`s3auth_client.legacy`, `.ss58`, `.tao`, `.btauth`) without the HTTP client.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from s3auth_client.api import Api
    from s3auth_client.errors import ApiError, ClientError, TransferError
    from s3auth_client.identity import Identity
    from s3auth_client.miner import Grant, MinerClient
    from s3auth_client.retry import RetryPolicy
    from s3auth_client.validator import RemoteFile, ValidatorAccess, ValidatorClient

_EXPORTS = {
    "Api": "api",
    "ApiError": "errors",
    "ClientError": "errors",
    "Grant": "miner",
    "Identity": "identity",
    "MinerClient": "miner",
    "RemoteFile": "validator",
    "RetryPolicy": "retry",
    "TransferError": "errors",
    "ValidatorAccess": "validator",
    "ValidatorClient": "validator",
}

__all__ = [
    "Api",
    "ApiError",
    "ClientError",
    "Grant",
    "Identity",
    "MinerClient",
    "RemoteFile",
    "RetryPolicy",
    "TransferError",
    "ValidatorAccess",
    "ValidatorClient",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 's3auth_client' has no attribute {name!r}")
    return getattr(import_module(f"s3auth_client.{module}"), name)
