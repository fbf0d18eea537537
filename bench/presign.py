"""Per-URL cost of three ways to presign S3 requests.

(a) botocore's client methods, (b) botocore's signer classes on a prepared AWSRequest,
(c) the service's own SigV4 signer (`app.storage.presign.Presigner`). No network.

    python -m bench.presign [--loops N] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore
from botocore.auth import S3SigV4PostAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.config import Config

from app.storage.presign import Presigner, addressing_of
from app.storage.sigv4 import encode, encode_key

BUCKET = "data-universe-storage"
PREFIX = "data/x/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/"
KEY = PREFIX + "label/2025-01-01/part-0001.parquet"
EXPIRES = 86400
RESULTS = Path(__file__).parent / "results"


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write figures as bench/results/<name>.json, stamped with when they were taken."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    stamped = {"taken_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **payload}
    path.write_text(json.dumps(stamped, indent=2) + "\n")
    return path


def make_client(endpoint: str | None) -> BaseClient:
    return boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1"
    ).client(
        "s3",
        endpoint_url=endpoint,
        config=Config(
            signature_version="s3v4", s3={"addressing_style": "path" if endpoint else "auto"}
        ),
    )


def client_methods(client: BaseClient) -> dict[str, Callable[[], Any]]:
    return {
        "get_url": lambda: client.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=EXPIRES
        ),
        "list_url": lambda: client.generate_presigned_url(
            "list_objects_v2",
            Params={"Bucket": BUCKET, "Prefix": PREFIX, "Delimiter": "/"},
            ExpiresIn=EXPIRES,
        ),
        "upload_form": lambda: client.generate_presigned_post(
            Bucket=BUCKET,
            Key=PREFIX + "${filename}",
            Fields={"acl": "private"},
            Conditions=[["content-length-range", 1024, 5 * 1024**3], {"acl": "private"}],
            ExpiresIn=EXPIRES,
        ),
    }


def signer_classes(client: BaseClient) -> dict[str, Callable[[], Any]]:
    where = addressing_of(client, BUCKET)
    provider = client._get_credentials()  # type: ignore[attr-defined]

    def query(url: str) -> str:
        request = AWSRequest(method="GET", url=url)
        auth = S3SigV4QueryAuth(provider.get_frozen_credentials(), "s3", where.region, EXPIRES)
        auth.add_auth(request)
        return request.url

    def post() -> dict[str, str]:
        request = AWSRequest(method="POST", url=where.post_url)
        request.context["s3-presign-post-fields"] = {"acl": "private"}
        conditions = [
            ["content-length-range", 1024, 5 * 1024**3],
            {"acl": "private"},
            {"bucket": BUCKET},
            ["starts-with", "$key", PREFIX],
        ]
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + EXPIRES))
        request.context["s3-presign-post-policy"] = {
            "expiration": expiration,
            "conditions": conditions,
        }
        S3SigV4PostAuth(provider.get_frozen_credentials(), "s3", where.region).add_auth(request)
        return request.context["s3-presign-post-fields"]

    get_url = f"{where.origin}{where.object_path}{encode_key(KEY)}"
    list_url = (
        f"{where.origin}{where.bucket_path}?list-type=2&prefix={encode(PREFIX)}"
        "&delimiter=%2F&encoding-type=url"
    )
    return {
        "get_url": lambda: query(get_url),
        "list_url": lambda: query(list_url),
        "upload_form": post,
    }


def own_signer(client: BaseClient) -> dict[str, Callable[[], Any]]:
    presigner = Presigner(client, BUCKET)
    return {
        "get_url": lambda: presigner.get_url(KEY, expires_in=EXPIRES),
        "list_url": lambda: presigner.list_url(PREFIX, expires_in=EXPIRES, delimiter="/"),
        "upload_form": lambda: presigner.upload_form(
            PREFIX, min_bytes=1024, max_bytes=5 * 1024**3, expires_in=EXPIRES
        ),
    }


def per_call_us(fn: Callable[[], Any], loops: int, repeats: int) -> dict[str, float]:
    fn()  # warm caches (endpoint rules, signing key)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        runs.append((time.perf_counter() - start) / loops * 1e6)
    return {"best_us": min(runs), "median_us": statistics.median(runs)}


METHODS = {
    "a_client": client_methods,
    "b_signer_classes": signer_classes,
    "c_own_sigv4": own_signer,
}


def run(loops: int, repeats: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for style, endpoint in [("path", "http://127.0.0.1:8333"), ("virtual_host", None)]:
        client = make_client(endpoint)
        figures[style] = {
            method: {op: per_call_us(fn, loops, repeats) for op, fn in build(client).items()}
            for method, build in METHODS.items()
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    figures = run(args.loops, args.repeats)
    print(f"{'style':13} {'method':17} {'operation':12} {'best µs':>9} {'median µs':>10}")
    for style, methods in figures.items():
        for method, ops in methods.items():
            for op, f in ops.items():
                print(f"{style:13} {method:17} {op:12} {f['best_us']:9.1f} {f['median_us']:10.1f}")
    for style, methods in figures.items():
        base = methods["a_client"]["get_url"]["median_us"]
        own = methods["c_own_sigv4"]["get_url"]["median_us"]
        print(f"{style}: own signer is {base / own:.0f}x cheaper than the client per GET URL")
    path = write_result(
        "presign",
        {
            "loops": args.loops,
            "repeats": args.repeats,
            "botocore": botocore.__version__,
            "python": platform.python_version(),
            "figures": figures,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
