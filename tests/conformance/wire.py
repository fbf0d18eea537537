"""Requests and parsing exactly as deployed subnet-13 clients do them.

Each function sends the bytes one client generation sends (compact pydantic JSON or
`json.dumps` with spaces, with or without `Content-Type`) and reads the answer only the
way that client reads it, so a test that passes here passes for the deployed client.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx2
from bittensor.sp_core import Keypair
from fastapi.testclient import TestClient

from tests.signing import compact, spaced, tao_headers

S3_NS = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}


def tao_post(
    client: TestClient,
    signer: Keypair,
    path: str,
    body: dict[str, Any],
    *,
    style: str = "compact",
    content_type: bool = True,
) -> httpx2.Response:
    """A Tao v2 signed POST: `compact` as DataUniverseApiClient, `spaced` as the validator's
    requests-based callers; clients before 2026-07-17 sent no Content-Type."""
    raw = compact(body) if style == "compact" else spaced(body)
    headers = tao_headers(signer, raw)
    if content_type:
        headers["Content-Type"] = "application/json"
    return client.post(path, content=raw, headers=headers)


def legacy_post(client: TestClient, path: str, body: dict[str, Any]) -> httpx2.Response:
    """`requests.post(json=...)` of the seed- and hotkey-era clients: spaced JSON."""
    return client.post(path, content=spaced(body), headers={"Content-Type": "application/json"})


def upload_with_fields(url: str, fields: dict[str, str], content: bytes) -> httpx2.Response:
    """Today's miner: every field as sent, then the part `file`; no `key` of its own."""
    return httpx2.post(
        url,
        data=fields,
        files={"file": ("data.parquet", content, "application/octet-stream")},
        timeout=30,
    )


@dataclass(frozen=True)
class ListedFile:
    key: str
    size: int
    last_modified: str


@dataclass(frozen=True)
class ListedPage:
    files: list[ListedFile]
    next_token: str | None


def read_list_page(list_url: str, miner_hotkey: str) -> ListedPage:
    """One page as the scoring validator reads it: namespaced XML, `unquote`d keys, only
    `.parquet` files in the miner's folder, and a token only if `IsTruncated` is true."""
    response = httpx2.get(list_url, timeout=60)
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.text)
    prefix = f"data/hotkey={miner_hotkey}/"
    files = []
    for item in root.findall(".//s3:Contents", S3_NS):
        key = unquote(item.findtext("s3:Key", "", S3_NS))
        if key.startswith(prefix) and key.endswith(".parquet"):
            size = int(item.findtext("s3:Size", "0", S3_NS) or 0)
            files.append(ListedFile(key, size, item.findtext("s3:LastModified", "", S3_NS)))
    truncated = (root.findtext(".//s3:IsTruncated", "", S3_NS) or "").lower() == "true"
    token = root.findtext(".//s3:NextContinuationToken", "", S3_NS) or None
    return ListedPage(files, token if truncated else None)


def common_prefixes(list_url: str) -> list[str]:
    response = httpx2.get(list_url, timeout=60)
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.text)
    return [
        unquote(p.findtext("s3:Prefix", "", S3_NS))
        for p in root.findall(".//s3:CommonPrefixes", S3_NS)
    ]
