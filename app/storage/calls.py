"""Every blocking call to S3 runs here: a bounded pool of its own, under a deadline.

boto3 blocks, so S3 calls run in threads. They used to share the event loop's default
pool with everything else that needs a thread (the metagraph file read, the in-memory
rate limiter's housekeeping); a hung S3 then held every thread and stalled routes that
never touch S3. Here S3 gets its own threads, a call waits at most `deadline` seconds
before its route answers 503 `storage_unavailable`, and when every thread is taken by a
slow S3 further calls are refused at once instead of queueing behind it. botocore's own
connect and read timeouts (app/storage/client.py) end the abandoned calls soon after.

Use it for any S3 call a route needs:

    page = await services.storage.run(client.list_objects_v2, Bucket=bucket, Prefix=prefix)

Presigning computes locally and does not go through here.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from botocore.exceptions import ClientError

from app.errors import Unavailable
from app.storage.bucket import BucketMissing, missing_bucket_of, report_missing

P = ParamSpec("P")
R = TypeVar("R")

STORAGE_THREADS = 16
# A page of S3 listing takes tens of milliseconds; a call that has not answered in this
# long is treated as an outage.
CALL_DEADLINE_SECONDS = 5.0
RETRY_AFTER_SECONDS = 5


class StorageUnavailable(Unavailable):
    code = "storage_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Storage is not answering right now; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class StorageCalls:
    def __init__(
        self, *, threads: int = STORAGE_THREADS, deadline: float = CALL_DEADLINE_SECONDS
    ) -> None:
        self.threads = threads
        self.deadline = deadline
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="s3")
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Calls running or waiting for a thread, abandoned ones included until they end."""
        return self._in_flight

    async def run(
        self,
        fn: Callable[P, R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """`fn(*args, **kwargs)` on a storage thread; 503 past the deadline or when saturated."""
        return await self.run_within(self.deadline, fn, *args, **kwargs)

    async def run_within(
        self,
        deadline: float,
        fn: Callable[P, R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Like `run`, for work known to take longer than one call (a paged listing)."""
        if self._in_flight >= self.threads:
            raise StorageUnavailable()
        self._in_flight += 1
        context = contextvars.copy_context()
        call = functools.partial(context.run, fn, *args, **kwargs)
        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, call)
        except RuntimeError:  # the executor is shut down: the app is stopping
            self._in_flight -= 1
            raise StorageUnavailable() from None
        future.add_done_callback(self._done)
        try:
            # shield: a timed-out call keeps its thread until botocore gives up, and is
            # counted in flight until then.
            return await asyncio.wait_for(asyncio.shield(future), deadline)
        except TimeoutError:
            raise StorageUnavailable() from None
        except ClientError as exc:
            # Named here, once for every caller: a missing bucket is not an outage.
            bucket = missing_bucket_of(exc)
            if bucket is None:
                raise
            report_missing(bucket)
            raise BucketMissing() from None

    def _done(self, future: asyncio.Future[object]) -> None:
        self._in_flight -= 1
        if not future.cancelled():
            future.exception()  # retrieved, so an abandoned call's failure is not reported

    def close(self) -> None:
        # Threads stuck on a hung S3 end with botocore's timeouts; nobody waits for them.
        self._executor.shutdown(wait=False, cancel_futures=True)
