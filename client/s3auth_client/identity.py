"""Who the client signs as: a hotkey that signs and, for miners, the coldkey that owns it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from s3auth_client.btauth import btauth_headers
from s3auth_client.errors import ClientError
from s3auth_client.signer import Signer
from s3auth_client.ss58 import is_ss58
from s3auth_client.tao import tao_headers


@dataclass(frozen=True)
class Identity:
    hotkey: Signer
    coldkey: str | None = None

    @property
    def hotkey_ss58(self) -> str:
        return self.hotkey.ss58_address

    def sign_hex(self, message: str) -> str:
        """A legacy body signature: the UTF-8 message signed by the hotkey, as 0x-hex."""
        return "0x" + bytes(self.hotkey.sign(message.encode())).hex()

    def btauth_headers(
        self, method: str, path: str, body: bytes, receiver: str | None
    ) -> dict[str, str]:
        return btauth_headers(self.hotkey, method=method, path=path, body=body, receiver=receiver)

    def tao_headers(self, body: bytes, *, clock_offset_ms: int = 0) -> dict[str, str]:
        now_ms = int(time.time() * 1000) + clock_offset_ms
        return tao_headers(self.hotkey, body, timestamp_ms=now_ms)

    def require_coldkey(self) -> str:
        if self.coldkey is None:
            raise ClientError("a coldkey is needed: pass --coldkey SS58 or use a wallet")
        return self.coldkey

    @classmethod
    def from_uri(cls, uri: str, coldkey: str | None = None) -> Identity:
        """A development key (`//name`); never for keys that hold value."""
        from bittensor_wallet import Keypair

        if coldkey is not None and not is_ss58(coldkey):
            raise ClientError(f"{coldkey!r} is not an SS58 address")
        try:
            hotkey = Keypair.create_from_uri(uri)
        except Exception as exc:  # the Rust binding raises ValueError or its own types
            raise ClientError(f"cannot derive a key from the hotkey URI: {exc}") from None
        return cls(hotkey, coldkey)

    @classmethod
    def from_wallet(
        cls, name: str, hotkey: str, path: str | Path | None = None, coldkey: str | None = None
    ) -> Identity:
        """The wallet's hotkey; the coldkey address comes from its public file, no password."""
        from bittensor_wallet import Wallet

        kwargs = {"path": str(Path(path).expanduser())} if path is not None else {}
        wallet = Wallet(name=name, hotkey=hotkey, **kwargs)
        try:
            keypair = wallet.hotkey
        except Exception as exc:  # the wallet raises several types for missing/locked files
            raise ClientError(f"cannot open hotkey {hotkey!r} of wallet {name!r}: {exc}") from None
        if coldkey is None:
            try:
                coldkey = wallet.coldkeypub.ss58_address
            except Exception:
                coldkey = None  # validators need no coldkey; miners are told when it matters
        elif not is_ss58(coldkey):
            raise ClientError(f"{coldkey!r} is not an SS58 address")
        return cls(keypair, coldkey)
