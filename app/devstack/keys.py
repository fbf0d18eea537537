"""The dev stack's public identities and the metagraph that registers them.

The keys derive from well-known URIs, so anyone can sign as them: they exist only in the
dev metagraph and must never be registered on a real subnet.
"""

from __future__ import annotations

from dataclasses import dataclass

from bittensor.sp_core import Keypair

DEV_MINERS = 3
# The UID that TRUSTED_VALIDATORS names by default, so the dev validator can use every
# validator endpoint (per-miner listings, file URLs, publishing scores) as deployed.
DEV_VALIDATOR_UID = 89


@dataclass(frozen=True)
class DevKey:
    role: str
    hotkey_uri: str
    coldkey_uri: str

    @property
    def name(self) -> str:
        """The identity's name on the /docs picker: its URI without the slashes."""
        return self.hotkey_uri.lstrip("/")

    @property
    def hotkey(self) -> Keypair:
        return Keypair.create_from_uri(self.hotkey_uri)

    @property
    def coldkey(self) -> Keypair:
        return Keypair.create_from_uri(self.coldkey_uri)


def dev_keys() -> list[DevKey]:
    miners = [
        DevKey("miner", f"//dev-miner-{i}", f"//dev-miner-{i}-cold")
        for i in range(1, DEV_MINERS + 1)
    ]
    return [*miners, DevKey("validator", "//dev-validator", "//dev-validator-cold")]


def dev_validator(keys: list[DevKey]) -> DevKey:
    return next(key for key in keys if key.role == "validator")


def dev_metagraph(keys: list[DevKey], netuid: int) -> dict[str, object]:
    neurons = [
        {
            "uid": DEV_VALIDATOR_UID if key.role == "validator" else index,
            "hotkey": key.hotkey.ss58_address,
            "coldkey": key.coldkey.ss58_address,
            "validator_permit": key.role == "validator",
            "stake": 100_000.0 if key.role == "validator" else 0.0,
        }
        for index, key in enumerate(keys)
    ]
    return {"netuid": netuid, "block": 0, "neurons": neurons}
