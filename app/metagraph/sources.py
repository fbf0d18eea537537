"""Where snapshots come from. The cache only needs `await source.load()`."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any, Protocol

from app.auth.keys import is_ss58
from app.metagraph.snapshot import Neuron, Snapshot


class MetagraphSource(Protocol):
    name: str

    async def load(self) -> Snapshot: ...

    async def close(self) -> None: ...


class MetagraphFormatError(ValueError):
    """The metagraph JSON does not have the contract's shape."""


def parse_metagraph(data: Any, source: str) -> Snapshot:
    """The snapshot in `data`, refused whole if any value is not exactly what it should be.

    Nothing is coerced: `"stake": "NaN"` or `"validator_permit": "false"` would otherwise
    become validator access.
    """
    if not isinstance(data, dict) or not isinstance(data.get("neurons"), list):
        raise MetagraphFormatError("metagraph must be an object with a list of neurons")
    neurons = [
        checked_neuron(
            uid=row.get("uid"),
            hotkey=row.get("hotkey"),
            coldkey=row.get("coldkey"),
            validator_permit=row.get("validator_permit", False),
            stake=row.get("stake", 0.0),
            incentive=row.get("incentive", 0.0),
        )
        if isinstance(row, dict)
        else _refuse(f"neuron {row!r} is not an object")
        for row in data["neurons"]
    ]
    return checked_snapshot(data.get("netuid"), data.get("block", 0), neurons, source)


def _refuse(reason: str) -> Any:
    raise MetagraphFormatError(reason)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_neuron(
    *,
    uid: Any,
    hotkey: Any,
    coldkey: Any,
    validator_permit: Any,
    stake: Any,
    incentive: Any = 0.0,
) -> Neuron:
    """A Neuron from values that must already have their exact types (file or chain)."""
    if not _is_int(uid) or uid < 0:
        raise MetagraphFormatError(f"uid {uid!r} is not a non-negative integer")
    for name, address in (("hotkey", hotkey), ("coldkey", coldkey)):
        if not isinstance(address, str) or not is_ss58(address):
            raise MetagraphFormatError(f"uid {uid}: {name} {address!r} is not an SS58 address")
    if not isinstance(validator_permit, bool):
        raise MetagraphFormatError(f"uid {uid}: validator_permit must be true or false")
    if not _is_number(stake):
        raise MetagraphFormatError(f"uid {uid}: stake {stake!r} is not a number")
    if not math.isfinite(stake) or stake < 0:
        raise MetagraphFormatError(f"uid {uid}: stake {stake!r} is not a finite number >= 0")
    if not _is_number(incentive):
        raise MetagraphFormatError(f"uid {uid}: incentive {incentive!r} is not a number")
    if not 0.0 <= incentive <= 1.0:  # also refuses NaN
        raise MetagraphFormatError(f"uid {uid}: incentive {incentive!r} is not within 0..1")
    return Neuron(uid, hotkey, coldkey, validator_permit, float(stake), float(incentive))


def checked_snapshot(netuid: Any, block: Any, neurons: list[Neuron], source: str) -> Snapshot:
    if not _is_int(netuid) or netuid < 0:
        raise MetagraphFormatError(f"netuid {netuid!r} is not a non-negative integer")
    if not _is_int(block) or block < 0:
        raise MetagraphFormatError(f"block {block!r} is not a non-negative integer")
    hotkeys = [n.hotkey for n in neurons]
    if len(set(hotkeys)) != len(hotkeys):
        raise MetagraphFormatError("a hotkey appears on more than one neuron")
    uids = [n.uid for n in neurons]
    if len(set(uids)) != len(uids):
        raise MetagraphFormatError("a uid appears on more than one neuron")
    return Snapshot.build(netuid, block, neurons, source)


def _no_constants(name: str) -> Any:
    raise MetagraphFormatError(f"{name} is not a JSON number")


class FileSource:
    """Neurons from a JSON file, re-read on every load so operators can edit it."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def load(self) -> Snapshot:
        text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
        try:
            # NaN and Infinity are not JSON; Python's parser accepts them unless told not to.
            data = json.loads(text, parse_constant=_no_constants)
        except json.JSONDecodeError as exc:
            raise MetagraphFormatError(f"{self.path} is not valid JSON: {exc}") from exc
        return parse_metagraph(data, self.name)

    async def close(self) -> None:
        return None
