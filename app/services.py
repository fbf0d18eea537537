"""The long-lived parts a running app holds, built in the lifespan and closed after it."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.client import BaseClient
from fastapi import Request

from app.auth.replay import ReplayStore
from app.db import Database
from app.desirability.service import Desirability
from app.housekeeping.service import Housekeeping
from app.limits import RateLimits
from app.metagraph import MetagraphCache
from app.ondemand.service import OnDemand
from app.ops.readiness import Readiness
from app.results.service import ValidationResults
from app.storage.bucket import BucketProbe
from app.storage.calls import StorageCalls
from app.storage.discovery import FolderDiscovery
from app.storage.heads import StorageHeads
from app.storage.presign import Presigner
from config import Settings


@dataclass
class Services:
    settings: Settings
    metagraph: MetagraphCache
    s3: BaseClient
    presigner: Presigner  # for miners and validators: signs for S3_PUBLIC_URL
    replay: ReplayStore
    limits: RateLimits
    discovery: FolderDiscovery
    db: Database
    ondemand: OnDemand
    desirability: Desirability
    results: ValidationResults
    storage: StorageCalls  # where every blocking S3 call runs (app/storage/calls.py)
    # Requests the service sends to S3 itself through presigned URLs (HEAD before uploads).
    storage_heads: StorageHeads
    housekeeping: Housekeeping  # background storage passes (app/housekeeping/)
    # Signs what the service sends itself: for S3_ENDPOINT_URL (the presigner when equal).
    internal_presigner: Presigner
    bucket: BucketProbe
    readiness: Readiness
    public_s3: BaseClient | None = None

    async def close(self) -> None:
        await self.metagraph.stop()
        # Its background steps use storage and the database: stopped before either.
        await self.ondemand.close()
        await self.housekeeping.close()
        await self.desirability.close()
        await self.results.close()
        await self.discovery.close()
        self.storage.close()
        await self.replay.close()
        await self.readiness.close()
        await self.limits.close()
        await self.db.close()
        await self.storage_heads.aclose()
        self.s3.close()
        if self.public_s3 is not None:
            self.public_s3.close()


# Async, though it does not await: FastAPI runs plain `def` dependencies in a thread pool,
# which costs more than the whole of what they do.
async def get_services(request: Request) -> Services:
    return request.app.state.services
