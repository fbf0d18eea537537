"""Client SDK for miners and validators: grants, uploads, listings and downloads.

Importable without the server's web stack: it needs bittensor (keys, signing) and httpx2.
"""

from app.client.errors import ApiError, ClientError, TransferError
from app.client.identity import Identity
from app.client.miner import Grant, MinerClient
from app.client.validator import RemoteFile, ValidatorAccess, ValidatorClient

__all__ = [
    "ApiError",
    "ClientError",
    "Grant",
    "Identity",
    "MinerClient",
    "RemoteFile",
    "TransferError",
    "ValidatorAccess",
    "ValidatorClient",
]
