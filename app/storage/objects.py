"""Whether an object exists: a HEAD through a URL the presigner signed, sent asynchronously.

botocore's HeadObject costs about a millisecond of CPU per call and a worker thread; a
presigned URL costs microseconds and the request waits on the event loop, bounded by
its own timeouts, so a slow or hung S3 holds only the requests that asked it something.
"""

from __future__ import annotations

import httpx2

from app.errors import Unavailable
from app.storage.bucket import BucketProbe
from app.storage.presign import Presigner

CONNECT_SECONDS = 3.0
READ_SECONDS = 5.0
# Presigned URLs only need to outlive the request that carries them.
URL_SECONDS = 60
BUCKET_CHECK_SECONDS = 2.0


def storage_http_client() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(READ_SECONDS, connect=CONNECT_SECONDS),
        limits=httpx2.Limits(max_connections=64, max_keepalive_connections=32),
    )


def _unavailable() -> Unavailable:
    return Unavailable(
        "Storage cannot be reached right now; try again shortly.", code="storage_unavailable"
    )


async def object_exists(
    http: httpx2.AsyncClient, presigner: Presigner, key: str, bucket: BucketProbe | None = None
) -> bool:
    """`presigner` signs for the address the service itself reaches (S3_ENDPOINT_URL)."""
    url = presigner.head_url(key, expires_in=URL_SECONDS)
    try:
        response = await http.head(url)
    except httpx2.HTTPError:
        raise _unavailable() from None
    if response.status_code == 200:
        return True
    if response.status_code == 404:
        # A HEAD has no body to say whether the object or the whole bucket is missing.
        if bucket is not None:
            await bucket.require(BUCKET_CHECK_SECONDS)
        return False
    raise _unavailable()
