"""`s3auth metagraph export`: pin the live metagraph to a file in the contract's format."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from app.metagraph.snapshot import Snapshot
from app.metagraph.sources import MetagraphSource


async def export_metagraph(source: MetagraphSource, out: Path, *, seconds: float) -> Snapshot:
    """Load once within `seconds` and write the snapshot to `out`; on failure write nothing."""
    try:
        snapshot = await asyncio.wait_for(source.load(), seconds)
    finally:
        await source.close()
    await asyncio.to_thread(write_metagraph, snapshot, out)
    return snapshot


def write_metagraph(snapshot: Snapshot, out: Path) -> None:
    # Write then rename, so a service reading this path as METAGRAPH_FILE never sees half a file.
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(json.dumps(snapshot.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, out)
