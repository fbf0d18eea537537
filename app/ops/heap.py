"""Keeps the garbage collector's pauses short in a serving worker.

A worker holds some 235,000 objects from its imports and startup (bittensor, pydantic,
FastAPI's models) that live as long as it does, and CPython's full collection walks every
one of them: about 150 ms here, and under load one ran every second or so, so a request
in flight during a pass waited for it (most of the 99th percentile with limits in Redis,
where requests wait on Redis long enough for their objects to reach the oldest
generation). Frozen objects are left out of every pass. They are still freed when nothing
refers to them; only a reference cycle among them would stay, and the collection just
before the freeze leaves none.

The young generation's threshold is raised from 700 allocations to 50,000: a request's
objects are mostly gone before a collection sees them, so fewer reach the older
generations, and full passes (which still walk what was built after startup, such as
botocore's lazily loaded S3 model) come about 70 times less often.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)

YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 20


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    logger.debug("startup heap frozen: %d objects left out of collections", gc.get_freeze_count())
