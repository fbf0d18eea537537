"""Distinct Tao v2 signed requests for the load benchmark: one fresh nonce each.

A request is one line for `signed_bodies.lua`: its headers as `Name: value` fields, then
the body, separated by tabs (compact JSON never holds a raw tab). Bodies come from a
named recipe so the signing can be split over processes.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bittensor.sp_core import Keypair

from bench.subnet import Neuron
from s3auth_client.tao import tao_message

# A recipe makes the body one signer sends in its i-th request ({} signs an empty body).
Recipe = Callable[[Neuron, int, list[Neuron]], dict[str, Any] | None]


def hotkey_folder_grant(neuron: Neuron, i: int, neurons: list[Neuron]) -> dict[str, Any]:
    return {"coldkey": neuron.coldkey}


def file_upload_url(neuron: Neuron, i: int, neurons: list[Neuron]) -> dict[str, Any]:
    name = f"data_20260805_141502_{i + 1}_{secrets.token_hex(8)}.parquet"
    return {"job_id": "bench-job", "filename": name}


def miner_list(neuron: Neuron, i: int, neurons: list[Neuron]) -> dict[str, Any]:
    return {"miner_hotkey": neurons[i % len(neurons)].hotkey}


def empty(neuron: Neuron, i: int, neurons: list[Neuron]) -> None:
    return None


def ondemand_active(neuron: Neuron, i: int, neurons: list[Neuron]) -> dict[str, Any]:
    return {"since": (datetime.now(UTC) - timedelta(minutes=2)).isoformat()}


def ondemand_window(neuron: Neuron, i: int, neurons: list[Neuron]) -> dict[str, Any]:
    """The last neuron's window; `bench.ondemand.seed_window` gave it 1,000 submissions."""
    now = datetime.now(UTC)
    return {
        "miner_hotkey": neurons[-1].hotkey,
        "expired_since": (now - timedelta(hours=3)).isoformat(),
        "expired_until": (now + timedelta(hours=1)).isoformat(),
        "limit": 1000,
    }


RECIPES: dict[str, Recipe] = {
    "hotkey_folder_grant": hotkey_folder_grant,
    "file_upload_url": file_upload_url,
    "miner_list": miner_list,
    "empty": empty,
    "ondemand_active": ondemand_active,
    "ondemand_window": ondemand_window,
}

_keypairs: dict[str, Keypair] = {}
# Deployed miners poll with httpx, which asks for gzip by default.
TAKES_GZIP = {"ondemand_active"}


def _sign(args: tuple[str, list[Neuron], list[Neuron], range]) -> list[bytes]:
    recipe_name, signers, neurons, indexes = args
    recipe = RECIPES[recipe_name]
    lines = []
    for i in indexes:
        neuron = signers[i % len(signers)]
        keypair = _keypairs.get(neuron.hotkey_uri)
        if keypair is None:
            keypair = _keypairs[neuron.hotkey_uri] = Keypair.create_from_uri(neuron.hotkey_uri)
        payload = recipe(neuron, i, neurons)
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        nonce = str(uuid.uuid4())
        ts = str(round(time.time() * 1000))
        signature = base64.b64encode(bytes(keypair.sign(tao_message(body, nonce, ts)))).decode()
        headers = [
            "X-Tao-Version: 2",
            f"X-Tao-Timestamp: {ts}",
            f"X-Tao-Nonce: {nonce}",
            f"X-Tao-Signed-By: {neuron.hotkey}",
            f"X-Tao-Signature: {signature}",
        ]
        if payload is not None:
            headers.append("Content-Type: application/json")
        if recipe_name in TAKES_GZIP:
            headers.append("Accept-Encoding: gzip")
        lines.append("\t".join([*headers, body.decode()]).encode())
    return lines


def tao_requests(
    neurons: list[Neuron], signers: list[Neuron], recipe: str, count: int
) -> list[bytes]:
    """`count` requests, each with a nonce of its own, spread over `signers`."""
    workers = max(1, min(os.cpu_count() or 1, 8))
    size = -(-count // (workers * 4))
    chunks = [
        (recipe, signers, neurons, range(start, min(start + size, count)))
        for start in range(0, count, size)
    ]
    with ProcessPoolExecutor(workers) as pool:
        return [line for lines in pool.map(_sign, chunks) for line in lines]
