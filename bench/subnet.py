"""A 256-neuron bench subnet and the distinct signed bodies that load it.

Every body must be accepted exactly once (replay protection is on), so each one carries a
signature over its own (hotkey, source, timestamp). Signing ~40 µs per body adds up at
100k bodies, so the work is split over processes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from bittensor.sp_core import Keypair

from s3auth_client.legacy import miner_message, validator_message

NEURONS = 256
VALIDATORS = 64  # the first uids hold a permit and enough stake
VALIDATOR_STAKE = 50_000.0
SOURCES = ("x", "reddit")
# Timestamps may be up to 60 s ahead of the server's clock; stay well inside that.
FUTURE_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class Neuron:
    uid: int
    hotkey_uri: str
    hotkey: str
    coldkey: str

    @property
    def is_validator(self) -> bool:
        return self.uid < VALIDATORS


def bench_neurons() -> list[Neuron]:
    neurons = []
    for uid in range(NEURONS):
        hot = Keypair.create_from_uri(f"//bench-hot-{uid}")
        cold = Keypair.create_from_uri(f"//bench-cold-{uid}")
        neurons.append(Neuron(uid, f"//bench-hot-{uid}", hot.ss58_address, cold.ss58_address))
    return neurons


def write_metagraph(path: Path, neurons: list[Neuron], netuid: int = 13) -> Path:
    rows = [
        {
            "uid": n.uid,
            "hotkey": n.hotkey,
            "coldkey": n.coldkey,
            "validator_permit": n.is_validator,
            "stake": VALIDATOR_STAKE if n.is_validator else 10.0,
        }
        for n in neurons
    ]
    path.write_text(json.dumps({"netuid": netuid, "block": 1, "neurons": rows}))
    return path


# (uri, hotkey, coldkey or None for a validator body, source, timestamp)
Job = tuple[str, str, str | None, str, int]


def _jobs(neurons: list[Neuron], kind: str, now: int, not_before: int) -> Iterator[Job]:
    """(hotkey, source, timestamp) triples, newest timestamps first, none before `not_before`.

    When the window runs out the triples come round again: sr25519 signatures are
    randomized, so signing the same message again gives a new, distinct signature.
    """
    signers = [n for n in neurons if n.is_validator] if kind == "validator" else neurons
    sources = ("",) if kind == "validator" else SOURCES
    while True:
        for ts in range(now + FUTURE_MARGIN_SECONDS, not_before - 1, -1):
            for source in sources:
                for n in signers:
                    yield (
                        n.hotkey_uri,
                        n.hotkey,
                        None if kind == "validator" else n.coldkey,
                        source,
                        ts,
                    )


_keypairs: dict[str, Keypair] = {}


def _sign_chunk(jobs: list[Job]) -> list[bytes]:
    lines = []
    for uri, hotkey, coldkey, source, ts in jobs:
        keypair = _keypairs.get(uri)
        if keypair is None:
            keypair = _keypairs[uri] = Keypair.create_from_uri(uri)
        if coldkey is None:
            message = validator_message(ts)
            body: dict[str, object] = {"hotkey": hotkey, "timestamp": ts}
        else:
            message = miner_message(coldkey, source, ts)
            body = {"coldkey": coldkey, "hotkey": hotkey, "source": source, "timestamp": ts}
        body["signature"] = "0x" + bytes(keypair.sign(message.encode())).hex()
        lines.append(json.dumps(body, separators=(",", ":")).encode())
    return lines


def signed_bodies(
    neurons: list[Neuron],
    kind: str,
    count: int,
    *,
    max_age: int,
    now: int | None = None,
    not_before: int | None = None,
) -> list[bytes]:
    """`count` distinct signed bodies for `kind` ("miner" or "validator"), all fresh now.

    `not_before`: the service's start; its replay store refuses anything dated earlier.
    """
    start = int(time.time()) if now is None else now
    # Leave a minute of the window for the run itself.
    oldest = start - (max_age - 60)
    jobs = list(islice(_jobs(neurons, kind, start, max(oldest, not_before or oldest)), count))
    workers = max(1, min(os.cpu_count() or 1, 8))
    size = -(-count // (workers * 4))
    chunks = [jobs[i : i + size] for i in range(0, count, size)]
    with ProcessPoolExecutor(workers) as pool:
        return [line for lines in pool.map(_sign_chunk, chunks) for line in lines]
