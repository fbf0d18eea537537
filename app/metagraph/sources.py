"""Where snapshots come from. The cache only needs `await source.load()`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Protocol

from app.metagraph.snapshot import Neuron, Snapshot


class MetagraphSource(Protocol):
    name: str

    async def load(self) -> Snapshot: ...

    async def close(self) -> None: ...


class MetagraphFormatError(ValueError):
    """The metagraph JSON does not have the contract's shape."""


def parse_metagraph(data: Any, source: str) -> Snapshot:
    try:
        neurons = [
            Neuron(
                uid=int(row["uid"]),
                hotkey=str(row["hotkey"]),
                coldkey=str(row["coldkey"]),
                validator_permit=bool(row.get("validator_permit", False)),
                stake=float(row.get("stake", 0.0)),
            )
            for row in data["neurons"]
        ]
        return Snapshot.build(int(data["netuid"]), int(data.get("block", 0)), neurons, source)
    except (KeyError, TypeError, ValueError) as exc:
        raise MetagraphFormatError(f"metagraph is not in the expected format: {exc!r}") from exc


class FileSource:
    """Neurons from a JSON file, re-read on every load so operators can edit it."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def load(self) -> Snapshot:
        text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MetagraphFormatError(f"{self.path} is not valid JSON: {exc}") from exc
        return parse_metagraph(data, self.name)

    async def close(self) -> None:
        return None
