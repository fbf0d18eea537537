"""Helpers shared by uploads and downloads: progress-reporting reads and S3 error bodies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import BinaryIO

import httpx2

from s3auth_client.api import retry_after_seconds
from s3auth_client.errors import TRANSIENT_STATUSES, TransferError

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


def s3_error(response: httpx2.Response, what: str) -> TransferError:
    """A TransferError from an S3 error response, with S3's own code and message."""
    text = response.text
    code = _CODE.search(text)
    message = _MESSAGE.search(text)
    reason = ": ".join(part.group(1) for part in (code, message) if part) or response.reason_phrase
    return TransferError(
        f"{what} refused by storage ({response.status_code} {reason})",
        status=response.status_code,
        transient=response.status_code in TRANSIENT_STATUSES,
        retry_after=retry_after_seconds(response),
    )
