"""The Dynamic Desirability read as validators make it: a signed GET with Tao v2 headers.

Each request carries its own nonce (replay protection refuses a nonce twice), so the
headers are signed ahead, split over processes, and written one request per line as
`timestamp<TAB>nonce<TAB>hotkey<TAB>signature` for the wrk script.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor

from bittensor.sp_core import Keypair

from bench.subnet import Neuron

DD_VALIDATOR_PATH = "/dynamic-desirability/validator/get-latest-list"
DD_LIST_PATH = "/dynamic-desirability/list"
ADMIN_KEY = "bench-admin-key"
# Today's production list size is not public; 100 entries answer about 17 KB.
ENTRIES = 100
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
# Timestamps may be up to 60 s ahead of the server's clock; stay well inside that.
AHEAD_MS = 20_000

_keypairs: dict[str, Keypair] = {}


def bench_list() -> dict[str, object]:
    entries = []
    for i in range(ENTRIES):
        platform = "x" if i % 2 == 0 else "reddit"
        label = f"#topic{i}" if platform == "x" else f"r/topic{i}"
        entries.append(
            {"id": f"bench-{i}", "platform": platform, "weight": 1.0 + i / 10, "label": label}
        )
    return {"entries": entries}


def publish_bench_list(base_url: str) -> str:
    request = urllib.request.Request(
        base_url + DD_LIST_PATH,
        data=json.dumps(bench_list()).encode(),
        method="PUT",
        headers={"X-API-Key": ADMIN_KEY, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["version"])


def _sign_chunk(jobs: list[tuple[str, str, str]]) -> list[bytes]:
    lines = []
    for uri, hotkey, timestamp in jobs:
        keypair = _keypairs.get(uri)
        if keypair is None:
            keypair = _keypairs[uri] = Keypair.create_from_uri(uri)
        nonce = str(uuid.uuid4())
        message = f"{EMPTY_BODY_SHA256}.{nonce}.{timestamp}"
        signature = base64.b64encode(bytes(keypair.sign(message.encode()))).decode()
        lines.append(f"{timestamp}\t{nonce}\t{hotkey}\t{signature}".encode())
    return lines


def tao_header_lines(
    neurons: list[Neuron], count: int, *, now_ms: int | None = None
) -> list[bytes]:
    """`count` distinct Tao v2 signatures of the empty body by the bench's validators."""
    validators = [n for n in neurons if n.is_validator]
    timestamp = str((round(time.time() * 1000) if now_ms is None else now_ms) + AHEAD_MS)
    jobs = [
        (
            validators[i % len(validators)].hotkey_uri,
            validators[i % len(validators)].hotkey,
            timestamp,
        )
        for i in range(count)
    ]
    workers = max(1, min(os.cpu_count() or 1, 8))
    size = max(1, -(-count // (workers * 4)))
    chunks = [jobs[i : i + size] for i in range(0, count, size)]
    with ProcessPoolExecutor(workers) as pool:
        return [line for lines in pool.map(_sign_chunk, chunks) for line in lines]
