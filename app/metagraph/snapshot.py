"""An immutable view of the subnet's neurons, indexed by hotkey."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Neuron:
    uid: int
    hotkey: str
    coldkey: str
    validator_permit: bool
    stake: float  # alpha stake in whole units
    # The miner's share of the subnet's incentive (0..1); submissions record it so
    # customers can rank answers by it.
    incentive: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "hotkey": self.hotkey,
            "coldkey": self.coldkey,
            "validator_permit": self.validator_permit,
            "stake": self.stake,
            "incentive": self.incentive,
        }


@dataclass(frozen=True)
class Snapshot:
    netuid: int
    block: int
    neurons: tuple[Neuron, ...]
    source: str  # "file" or "chain": where operators should look when it is wrong
    by_hotkey: Mapping[str, Neuron] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_hotkey", {n.hotkey: n for n in self.neurons})

    @classmethod
    def build(cls, netuid: int, block: int, neurons: Iterable[Neuron], source: str) -> Snapshot:
        return cls(netuid=netuid, block=block, neurons=tuple(neurons), source=source)

    def get(self, hotkey: str) -> Neuron | None:
        return self.by_hotkey.get(hotkey)

    def __len__(self) -> int:
        return len(self.neurons)

    def to_json(self) -> dict[str, Any]:
        """The metagraph file format of CONTRACT §4."""
        return {
            "netuid": self.netuid,
            "block": self.block,
            "neurons": [n.to_json() for n in self.neurons],
        }
