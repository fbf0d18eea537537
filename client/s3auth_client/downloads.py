"""Parallel downloads that land whole or not at all, checked against size and ETag."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from s3auth_client.errors import ClientError, TransferError
from s3auth_client.progress import NoProgress, Progress
from s3auth_client.retry import RetryPolicy
from s3auth_client.transfer import read_error_body, s3_error

CHUNK_BYTES = 1024 * 1024
DOWNLOAD_TIMEOUT = httpx2.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class DownloadItem:
    key: str
    url: str
    dest: Path
    size: int | None = None  # known from a listing; checked before and after


@dataclass
class DownloadReport:
    out: str = ""
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_downloaded: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "out": self.out,
            "downloaded": self.downloaded,
            "skipped": self.skipped,
            "failed": self.failed,
            "bytes_downloaded": self.bytes_downloaded,
        }


def destination(out: Path, key: str) -> Path:
    """Where `key` is written under `out`; keys that would escape `out` are refused."""
    parts = key.split("/")
    if any(part in ("", ".", "..") or "\\" in part for part in parts):
        raise ClientError(f"refusing to write key {key!r}: it is not a plain relative path")
    return out.joinpath(*parts)


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def etag_matches(etag: str | None, md5_hex: str) -> bool:
    """True unless a single-part ETag (the object's MD5) disagrees with the bytes.

    Multipart ETags (`<hash>-<parts>`) are not an MD5 of the content, so they say nothing.
    """
    if not etag:
        return True
    value = etag.strip().removeprefix("W/").strip('"')
    if "-" in value or len(value) != 32:
        return True
    return value.lower() == md5_hex


def download_one(
    http: httpx2.Client,
    item: DownloadItem,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> bool:
    """Fetch `item` into place; False when the local copy was already the same."""
    if item.dest.exists() and item.size is not None and item.dest.stat().st_size == item.size:
        return False
    headers: dict[str, str] = {}
    if item.dest.exists() and item.size is None:
        # Size unknown: let S3 answer 304 when the local bytes have the same MD5.
        headers["If-None-Match"] = f'"{md5_of(item.dest)}"'
    partial = item.dest.with_name(item.dest.name + ".part")
    item.dest.parent.mkdir(parents=True, exist_ok=True)
    received = 0
    written = 0
    done = False
    try:
        with http.stream("GET", item.url, headers=headers, timeout=DOWNLOAD_TIMEOUT) as response:
            if response.status_code == 304:
                return False
            if not response.is_success:
                raise s3_error(response, f"download of {item.key}", read_error_body(response))
            limit = expected_size(item, response)
            digest = hashlib.md5(usedforsecurity=False)
            with partial.open("wb") as out:
                # Raw bytes: the object as stored. Decoding a Content-Encoding would let a
                # small stored object expand without bound on the validator's disk.
                for chunk in response.iter_raw(CHUNK_BYTES):
                    received += len(chunk)
                    if limit is not None and received > limit:
                        raise TransferError(
                            f"download of {item.key} is larger than its {limit} bytes; stopped",
                            transient=False,
                        )
                    out.write(chunk)
                    written += len(chunk)
                    digest.update(chunk)
                    if on_progress is not None:
                        on_progress(len(chunk))
            check_download(item, response, received, digest.hexdigest())
        os.replace(partial, item.dest)
        done = True
    except httpx2.TransportError as exc:
        raise TransferError(f"download of {item.key} failed: {exc}", transient=True) from None
    finally:
        if partial.exists():
            partial.unlink()
        if written and on_progress is not None and not done:
            on_progress(-written)
    return True


def expected_size(item: DownloadItem, response: httpx2.Response) -> int | None:
    """The listed size, else the stored size S3 declares; None when neither is known."""
    if item.size is not None:
        return item.size
    declared = response.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


def check_download(
    item: DownloadItem, response: httpx2.Response, received: int, md5_hex: str
) -> None:
    expected = expected_size(item, response)
    if expected is not None and received != expected:
        raise TransferError(
            f"download of {item.key} is {received} bytes, expected {expected}", transient=True
        )
    if not etag_matches(response.headers.get("etag"), md5_hex):
        raise TransferError(
            f"download of {item.key} does not match its ETag (corrupted in transit)",
            transient=True,
        )


def download_all(
    http: httpx2.Client,
    items: list[DownloadItem],
    *,
    jobs: int = 8,
    retry: RetryPolicy | None = None,
    refresh_url: Callable[[str], str] | None = None,
    progress: Progress | None = None,
) -> DownloadReport:
    """Download in parallel; a URL that expired mid-run is renewed with `refresh_url`."""
    retry = retry or RetryPolicy()
    progress = progress or NoProgress()

    def fetch(item: DownloadItem) -> bool:
        try:
            return retry.run(lambda: download_one(http, item, on_progress=progress.advance))
        except TransferError as error:
            if error.status != 403 or refresh_url is None:
                raise
        renewed = DownloadItem(item.key, refresh_url(item.key), item.dest, item.size)
        return retry.run(lambda: download_one(http, renewed, on_progress=progress.advance))

    report = DownloadReport()
    known = [i.size for i in items]
    progress.start(len(items), sum(s for s in known if s) if None not in known else None)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="download")
    try:
        futures: dict[Future[bool], DownloadItem] = {pool.submit(fetch, i): i for i in items}
        for future in as_completed(futures):
            item = futures[future]
            try:
                fetched = future.result()
            except (ClientError, OSError) as error:
                report.failed[item.key] = str(error)
            else:
                if fetched:
                    report.downloaded.append(item.key)
                    report.bytes_downloaded += item.dest.stat().st_size
                else:
                    report.skipped.append(item.key)
            progress.file_done()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        progress.stop()
    pool.shutdown(wait=True)
    report.downloaded.sort()
    return report
