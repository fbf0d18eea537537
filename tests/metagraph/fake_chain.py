"""An in-memory chain behind bittensor's `Substrate` protocol.

`Client(substrate=...)` is bittensor's own seam for tests: everything above it (the
`subnets.metagraph` read, block pinning, `Metagraph` decoding, rao -> alpha) is the real
library. The fake answers `SubnetInfoRuntimeApi.get_metagraph` with the record the
transport hands up after SCALE decoding: account ids as SS58 text, compact integers as
ints, balances in rao, `name`/`symbol` as byte lists.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from bittensor import runtime_api
from bittensor.balance import Balance

RAO_PER_ALPHA = 10**9
U16_MAX = 65535
TOKEN_SYMBOL = "\u03b9"  # the subnet's alpha symbol
GET_METAGRAPH = tuple(runtime_api.SubnetInfoRuntimeApi.get_metagraph)


@dataclass
class ChainNeuron:
    hotkey: str
    coldkey: str
    validator_permit: bool = False
    alpha_stake_rao: int = 0
    incentive_u16: int = 0  # the runtime's PerU16: U16_MAX is 1.0


class FakeChain:
    """One subnet's state; every connection opened on it reads the current state."""

    def __init__(self, netuid: int, neurons: list[ChainNeuron], *, block: int = 4_000_000):
        self.netuid = netuid
        self.neurons = list(neurons)
        self.block = block
        self.connects = 0
        self.closes = 0
        self.unreachable: Exception | None = None  # raised by connect()
        self.failure: Exception | None = None  # raised by the metagraph call
        self.stalled = False  # the metagraph call awaits forever (a silent node)
        self.gate: threading.Event | None = None  # the call blocks its thread until set
        self.entered = threading.Event()  # a metagraph call has started

    def substrate(self) -> FakeSubstrate:
        return FakeSubstrate(self)

    def replace(self, hotkey: str, newcomer: ChainNeuron) -> None:
        """Deregister `hotkey`; the newcomer registers into its uid, as the chain does."""
        uid = [n.hotkey for n in self.neurons].index(hotkey)
        self.neurons[uid] = newcomer
        self.block += 360

    def block_thread(self) -> threading.Event:
        self.gate = threading.Event()
        self.entered.clear()
        return self.gate

    def metagraph_record(self) -> dict[str, Any]:
        count = len(self.neurons)
        return {
            "netuid": self.netuid,
            "name": list(b"data universe"),
            "symbol": list(TOKEN_SYMBOL.encode()),
            "identity": None,
            "network_registered_at": 1_000,
            "owner_hotkey": self.neurons[0].hotkey,
            "owner_coldkey": self.neurons[0].coldkey,
            "block": self.block,
            "tempo": 360,
            "last_step": self.block - 10,
            "blocks_since_last_step": 10,
            "tao_in": 5_000 * RAO_PER_ALPHA,
            "alpha_in": 100_000 * RAO_PER_ALPHA,
            "moving_price": {"bits": 2**31},
            "num_uids": count,
            "max_uids": 256,
            "hotkeys": [n.hotkey for n in self.neurons],
            "coldkeys": [n.coldkey for n in self.neurons],
            "identities": [None] * count,
            "axons": [{"ip": 0, "port": 0, "ip_type": 4}] * count,
            "active": [True] * count,
            "validator_permit": [n.validator_permit for n in self.neurons],
            "pruning_score": [0] * count,
            "last_update": [self.block - 5] * count,
            "emission": [0] * count,
            "dividends": [0] * count,
            "incentives": [n.incentive_u16 for n in self.neurons],
            "consensus": [0] * count,
            "trust": [0] * count,
            "rank": [0] * count,
            "block_at_registration": [1_000 + uid for uid in range(count)],
            "alpha_stake": [n.alpha_stake_rao for n in self.neurons],
            "tao_stake": [0] * count,
            "total_stake": [n.alpha_stake_rao for n in self.neurons],
        }


class FakeSubstrate:
    """One connection to a FakeChain: the slice of `Substrate` a metagraph read uses."""

    def __init__(self, chain: FakeChain) -> None:
        self.chain = chain
        self.token_symbols: dict[int, str] = {}

    def balance(self, rao: int, netuid: int = 0) -> Balance:
        return Balance(int(rao), netuid, self.token_symbols.get(netuid))

    async def connect(self) -> None:
        if self.chain.unreachable is not None:
            raise self.chain.unreachable
        self.chain.connects += 1

    async def close(self) -> None:
        self.chain.closes += 1

    async def block_number(self) -> int:
        return self.chain.block

    async def block_hash(self, block: int | None = None) -> str:
        return "0x" + (block or self.chain.block).to_bytes(32, "big").hex()

    async def query_map(
        self,
        module: str,
        storage_function: str,
        params: list | None = None,
        block_hash: str | None = None,
    ) -> list[tuple[Any, Any]]:
        if (module, storage_function) == ("SubtensorModule", "TokenSymbol"):
            return [(self.chain.netuid, list(TOKEN_SYMBOL.encode()))]
        raise NotImplementedError(f"{module}.{storage_function} is not faked")

    async def runtime_call(
        self, api: str, method: str, params: list, block_hash: str | None = None
    ) -> Any:
        if (api, method) != GET_METAGRAPH:
            raise NotImplementedError(f"{api}.{method} is not faked")
        chain = self.chain
        chain.entered.set()
        if chain.gate is not None:
            chain.gate.wait()  # deliberately blocks: a call that never yields its thread
        if chain.stalled:
            await asyncio.Event().wait()
        if chain.failure is not None:
            raise chain.failure
        if params != [chain.netuid]:
            return None  # Option::None: no such subnet
        return chain.metagraph_record()
