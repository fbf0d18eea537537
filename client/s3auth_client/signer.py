"""What signs for the client: any sr25519 keypair with `sign` and `ss58_address`."""

from __future__ import annotations

from typing import Protocol


class Signer(Protocol):
    """`bittensor_wallet.Keypair` fits, and so does `bittensor`'s own Keypair."""

    @property
    def ss58_address(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...
