"""Client SDK for miners and validators: grants, uploads, listings and downloads.

Importable without the server's web stack: it needs bittensor (keys, signing) and httpx2.
"""

from app.client.api import Api
from app.client.errors import ApiError, ClientError, TransferError
from app.client.identity import Identity
from app.client.miner import Grant, MinerClient
from app.client.retry import RetryPolicy
from app.client.validator import RemoteFile, ValidatorAccess, ValidatorClient

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
