"""Whether an object exists: a HEAD through a URL the presigner signed, sent asynchronously.

botocore's HeadObject costs about a millisecond of CPU per call and a worker thread; a
presigned URL costs microseconds and the request waits on the event loop, bounded by
its own timeouts (app/storage/heads.py), so a slow or hung S3 holds only the requests
that asked it something.
"""

from __future__ import annotations

from app.errors import Unavailable
from app.storage.bucket import BucketProbe
from app.storage.heads import StorageHeads, StorageUnreachable
from app.storage.presign import Presigner

# Presigned URLs only need to outlive the request that carries them.
URL_SECONDS = 60
BUCKET_CHECK_SECONDS = 2.0


def _unavailable() -> Unavailable:
    return Unavailable(
        "Storage cannot be reached right now; try again shortly.", code="storage_unavailable"
    )


async def object_exists(
    heads: StorageHeads, presigner: Presigner, key: str, bucket: BucketProbe | None = None
) -> bool:
    """`presigner` signs for the address the service itself reaches (S3_ENDPOINT_URL)."""
    url = presigner.head_url(key, expires_in=URL_SECONDS)
    try:
        status = await heads.status(url)
    except StorageUnreachable:
        raise _unavailable() from None
    if status == 200:
        return True
    if status == 404:
        # A HEAD has no body to say whether the object or the whole bucket is missing.
        if bucket is not None:
            await bucket.require(BUCKET_CHECK_SECONDS)
        return False
    raise _unavailable()
