"""Helpers shared by uploads and downloads: progress-reporting reads and S3 error bodies."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import httpx2

from s3auth_client.api import retry_after_seconds
from s3auth_client.errors import TRANSIENT_STATUSES, TransferError

STREAM_CHUNK_BYTES = 256 * 1024
_CODE = re.compile(r"<Code>([^<]+)</Code>")
_MESSAGE = re.compile(r"<Message>([^<]+)</Message>")


class ProgressReader:
    """A file wrapper that reports bytes as the HTTP client reads them."""

    def __init__(self, raw: BinaryIO, on_progress: Callable[[int], None] | None) -> None:
        self.raw = raw
        self.on_progress = on_progress
        self.reported = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        if chunk and self.on_progress is not None:
            self.reported += len(chunk)
            self.on_progress(len(chunk))
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        # A request body given as `content` is streamed by iterating it.
        while chunk := self.read(STREAM_CHUNK_BYTES):
            yield chunk

    def rewind(self) -> None:
        """Take back what was reported, so a retry does not count bytes twice."""
        if self.reported and self.on_progress is not None:
            self.on_progress(-self.reported)
        self.reported = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset == 0 and whence == 0:
            self.rewind()
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def fileno(self) -> int:
        return self.raw.fileno()


# S3 error documents are a few hundred bytes; a streamed response is read no further.
ERROR_BODY_BYTES = 64 * 1024


def read_error_body(response: httpx2.Response) -> str:
    """The start of a streamed error response, raw (never decoded, never unbounded)."""
    body = b""
    for chunk in response.iter_raw(ERROR_BODY_BYTES):
        body += chunk
        if len(body) >= ERROR_BODY_BYTES:
            break
    return body[:ERROR_BODY_BYTES].decode("utf-8", "replace")


UPLOAD_TIMEOUT = httpx2.Timeout(60.0, connect=10.0, write=300.0)


def post_file(
    http: httpx2.Client,
    url: str,
    form: dict[str, str],
    path: Path,
    what: str,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """One multipart POST of `path` with a presigned form; TransferError unless 2xx."""
    with path.open("rb") as raw:
        stream = ProgressReader(raw, on_progress)
        try:
            response = http.post(
                url,
                data=form,
                files={"file": (path.name, stream, "application/octet-stream")},
                timeout=UPLOAD_TIMEOUT,
            )
        except httpx2.TransportError as exc:
            stream.rewind()
            raise TransferError(f"{what} failed: {exc}", transient=True) from None
    if not response.is_success:
        stream.rewind()
        raise s3_error(response, what)


def put_file(
    http: httpx2.Client,
    url: str,
    path: Path,
    what: str,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """One presigned PUT of `path` (stores without POST policies); TransferError unless 2xx."""
    size = path.stat().st_size
    with path.open("rb") as raw:
        stream = ProgressReader(raw, on_progress)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        try:
            response = http.put(url, content=stream, headers=headers, timeout=UPLOAD_TIMEOUT)
        except httpx2.TransportError as exc:
            stream.rewind()
            raise TransferError(f"{what} failed: {exc}", transient=True) from None
    if not response.is_success:
        stream.rewind()
        raise s3_error(response, what)


def s3_error(response: httpx2.Response, what: str, text: str | None = None) -> TransferError:
    """A TransferError from an S3 error response, with S3's own code and message."""
    text = response.text if text is None else text
    code = _CODE.search(text)
    message = _MESSAGE.search(text)
    reason = ": ".join(part.group(1) for part in (code, message) if part) or response.reason_phrase
    return TransferError(
        f"{what} refused by storage ({response.status_code} {reason})",
        status=response.status_code,
        transient=response.status_code in TRANSIENT_STATUSES,
        retry_after=retry_after_seconds(response),
    )
