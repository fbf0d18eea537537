"""Latency of POST /get-validator-access against a real SeaweedFS and a real server.

Starts SeaweedFS (app.seaweed) and the API under uvicorn in a subprocess, registers 256
miners and one validator in a metagraph file, fills a bucket with 16, 256 and 5,000 miner
folders, and times sequential bundle requests once discovery is cached.

    python -m bench.validator_access [--folders 16,256,5000] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx2
from bittensor.sp_core import Keypair
from botocore.client import BaseClient
from botocore.config import Config

from app.seaweed import S3Credentials, SeaweedServer, free_ports
from app.serve import SETTINGS_FILE_ENV, write_settings_file
from app.storage.presign import Presigner
from bench.presign import write_result
from config import Settings
from s3auth_client.legacy import validator_message

MINERS = 256
SOURCES = ("x", "reddit")
TARGET_P50_MS = 50.0


def keypair(name: str) -> Keypair:
    return Keypair.create_from_uri(f"//bench-{name}")


def metagraph(validator: Keypair, miner_coldkeys: list[str]) -> dict[str, Any]:
    neurons = [
        {
            "uid": uid,
            "hotkey": keypair(f"miner-hot-{uid}").ss58_address,
            "coldkey": coldkey,
            "validator_permit": False,
            "stake": 0.0,
        }
        for uid, coldkey in enumerate(miner_coldkeys)
    ]
    neurons.append(
        {
            "uid": len(neurons),
            "hotkey": validator.ss58_address,
            "coldkey": keypair("validator-cold").ss58_address,
            "validator_permit": True,
            "stake": 100_000.0,
        }
    )
    return {"netuid": 13, "block": 1, "neurons": neurons}


def folder_keys(count: int, miner_coldkeys: list[str]) -> list[str]:
    """`count` folders spread over the sources: registered miners first, then other names."""
    keys = []
    for i in range(count):
        name = miner_coldkeys[i] if i < len(miner_coldkeys) else f"5Unregistered{i:035d}"
        keys.append(f"data/{SOURCES[i % len(SOURCES)]}/{name}/part-0.parquet")
    return keys


def fill(client: BaseClient, bucket: str, keys: list[str]) -> None:
    client.create_bucket(Bucket=bucket)
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=bucket, Key=k, Body=b"\x01"), keys))


def signed_body(validator: Keypair) -> bytes:
    ts = int(time.time())
    signature = "0x" + bytes(validator.sign(validator_message(ts).encode())).hex()
    return json.dumps(
        {"hotkey": validator.ss58_address, "timestamp": ts, "signature": signature}
    ).encode()


class ApiServer:
    """`app.serve:app_from_environment` under uvicorn, in its own process."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.directory = Path(tempfile.mkdtemp(prefix="s3auth-bench-"))
        path = write_settings_file(settings, self.directory)
        env = {**os.environ, SETTINGS_FILE_ENV: str(path)}
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "app.serve:app_from_environment", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            ],
            env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.url}/healthcheck", timeout=2).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the API did not become healthy within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        shutil.rmtree(self.directory, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_bundles(api: ApiServer, validator: Keypair, requests: int) -> dict[str, Any]:
    with httpx2.Client(base_url=api.url, timeout=60) as http:
        start = time.perf_counter()
        cold = http.post("/get-validator-access", content=signed_body(validator))
        cold_ms = (time.perf_counter() - start) * 1000
        cold.raise_for_status()
        folders = sum(len(s) for s in cold.json()["urls"]["miners"].values())
        latencies = []
        for _ in range(requests):
            body = signed_body(validator)  # signed outside the timed section
            start = time.perf_counter()
            response = http.post("/get-validator-access", content=body)
            latencies.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
    return {
        "first_request_ms": round(cold_ms, 2),
        "folders_in_bundle": folders,
        "response_bytes": len(response.content),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "requests": requests,
    }


def presign_cost_us(client: BaseClient, bucket: str, keys: list[str]) -> dict[str, float]:
    """Per list URL of the bundle: the service's batch signer, and botocore's client."""
    prefixes = [key.rsplit("/", 1)[0] + "/" for key in keys] or ["data/x/none/"]
    presigner = Presigner(client, bucket)
    presigner.list_urls(prefixes, expires_in=86400)  # as in a running server: names cached
    start = time.perf_counter()
    presigner.list_urls(prefixes, expires_in=86400)
    own = (time.perf_counter() - start) / len(prefixes) * 1e6
    sample = prefixes[:500]
    start = time.perf_counter()
    for prefix in sample:
        client.generate_presigned_url(
            "list_objects_v2", Params={"Bucket": bucket, "Prefix": prefix}, ExpiresIn=86400
        )
    boto = (time.perf_counter() - start) / len(sample) * 1e6
    return {"own_signer_us": round(own, 2), "botocore_client_us": round(boto, 2)}


def run(folder_counts: list[int], requests: int) -> dict[str, Any]:
    validator = keypair("validator-hot")
    miner_coldkeys = [keypair(f"miner-cold-{uid}").ss58_address for uid in range(MINERS)]
    credentials = S3Credentials(secrets.token_hex(8), secrets.token_hex(16))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-validator-") as tmp:
        metagraph_file = Path(tmp) / "metagraph.json"
        metagraph_file.write_text(json.dumps(metagraph(validator, miner_coldkeys)))
        with SeaweedServer(Path(tmp) / "seaweed", credentials) as seaweed:
            s3 = boto3.client(
                "s3",
                endpoint_url=seaweed.endpoint_url,
                aws_access_key_id=credentials.access_key,
                aws_secret_access_key=credentials.secret_key,
                region_name="us-east-1",
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
            for count in folder_counts:
                bucket = f"bench-{count}-{secrets.token_hex(3)}"
                keys = folder_keys(count, miner_coldkeys)
                started = time.perf_counter()
                fill(s3, bucket, keys)
                print(f"{count} folders written in {time.perf_counter() - started:.1f} s")
                settings = Settings(
                    _env_file=None,
                    s3_bucket=bucket,
                    s3_endpoint_url=seaweed.endpoint_url,
                    aws_access_key_id=credentials.access_key,
                    aws_secret_access_key=credentials.secret_key,
                    metagraph_file=metagraph_file,
                    database_url=f"sqlite+aiosqlite:///{metagraph_file.parent / 'bench.sqlite3'}",
                    sources=SOURCES,
                    rate_limit_ip="",
                    rate_limit_miner="",
                    rate_limit_validator="",
                    log_level="warning",
                )
                api = ApiServer(settings, free_ports(1)[0])
                try:
                    figures = time_bundles(api, validator, requests)
                finally:
                    api.stop()
                figures["presign_per_url"] = presign_cost_us(s3, bucket, keys)
                results[str(count)] = figures
                print(
                    f"{count:>5} folders: p50 {figures['p50_ms']:.1f} ms, "
                    f"p99 {figures['p99_ms']:.1f} ms, first {figures['first_request_ms']:.0f} ms, "
                    f"{figures['folders_in_bundle']} folders, "
                    f"{figures['response_bytes'] / 1e6:.2f} MB, presign "
                    f"{figures['presign_per_url']['own_signer_us']:.1f} µs/URL (botocore "
                    f"{figures['presign_per_url']['botocore_client_us']:.0f} µs)"
                )
            s3.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", default="16,256,5000", help="comma-separated counts")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per count")
    args = parser.parse_args()
    counts = [int(part) for part in args.folders.split(",") if part]

    results = run(counts, args.requests)
    if "5000" in results:
        p50 = results["5000"]["p50_ms"]
        verdict = "meets" if p50 < TARGET_P50_MS else "misses"
        print(f"5000 folders: p50 {p50:.1f} ms {verdict} the {TARGET_P50_MS:.0f} ms target")
    path = write_result(
        "validator_access",
        {"miners": MINERS, "sources": list(SOURCES), "cpus": os.cpu_count(), "results": results},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
