"""Whether the bucket exists: a missing bucket is its own refusal, not a storage outage.

A bucket that was never created (or was deleted) fails every S3-bound request the same
way on every replica; operators need that named, not "storage is not answering".
`BucketProbe` asks S3 (HeadBucket) at most every `PROBE_SECONDS` and remembers the
answer, for `/readyz` and for routes whose S3 answer cannot tell a missing object from a
missing bucket (a HEAD has no body).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from app.errors import Unavailable

logger = logging.getLogger(__name__)

PROBE_SECONDS = 10.0
# A missing bucket is logged at most this often per process, however many requests hit it.
LOG_EVERY_SECONDS = 60.0
RETRY_AFTER_SECONDS = 30
MISSING_CODES = frozenset({"NoSuchBucket"})


class BucketMissing(Unavailable):
    code = "bucket_missing"

    def __init__(self) -> None:
        super().__init__(
            "The storage bucket does not exist; operators must create it.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def missing_bucket_of(exc: BaseException) -> str | None:
    """The bucket's name (or "?") when `exc` is S3 saying the bucket does not exist."""
    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    if error.get("Code") not in MISSING_CODES:
        return None
    return str(error.get("BucketName") or "?")


_last_logged: dict[str, float] = {}


def report_missing(bucket: str, *, clock: Callable[[], float] = time.monotonic) -> None:
    """Logs the missing bucket once a minute at most, naming it and what to do."""
    now = clock()
    last = _last_logged.get(bucket)
    if last is not None and now - last < LOG_EVERY_SECONDS:
        return
    _last_logged[bucket] = now
    logger.error(
        "bucket %r does not exist at the S3 endpoint: S3-bound requests answer 503 "
        "bucket_missing until it is created (S3_BUCKET, S3_ENDPOINT_URL)",
        bucket,
    )


@dataclass(frozen=True, slots=True)
class BucketState:
    ok: bool
    missing: bool
    reason: str | None
    checked_at: float


def head_bucket(client: BaseClient, bucket: str) -> tuple[bool, str | None]:
    """(missing, why not usable): (False, None) when the bucket exists and may be used."""
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in MISSING_CODES or code == "404":
            report_missing(bucket)
            return True, f"bucket {bucket!r} does not exist"
        if code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return False, f"the credentials may not use bucket {bucket!r} ({code})"
        return False, f"S3 answered {code or 'an error'} for bucket {bucket!r}"
    except BotoCoreError as exc:
        return False, f"S3 cannot be reached ({type(exc).__name__})"
    return False, None


class BucketProbe:
    def __init__(
        self,
        client: BaseClient,
        bucket: str,
        run: Callable[..., Awaitable[tuple[bool, str | None]]],
        *,
        every: float = PROBE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.bucket = bucket
        # StorageCalls.run_within: the HeadBucket goes on the storage threads, bounded.
        self._run = run
        self.every = every
        self._clock = clock
        self._state: BucketState | None = None

    @property
    def state(self) -> BucketState | None:
        return self._state

    async def check(self, deadline: float) -> BucketState:
        """The remembered answer when recent, else a new HeadBucket within `deadline` s."""
        state = self._state
        if state is not None and self._clock() - state.checked_at < self.every:
            return state
        try:
            missing, reason = await self._run(deadline, head_bucket, self.client, self.bucket)
        except Unavailable:
            missing, reason = (
                False,
                (
                    f"S3 did not answer within {deadline:g} s (or every storage thread is "
                    "waiting on it)"
                ),
            )
        state = BucketState(reason is None, missing, reason, self._clock())
        self._state = state
        return state

    async def require(self, deadline: float) -> None:
        """Raises `BucketMissing` when the bucket is known (or found) to be missing."""
        if (await self.check(deadline)).missing:
            raise BucketMissing()
