"""The application factory: `create_app(settings)` wires the parts and their lifetimes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from botocore.client import BaseClient
from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig

from app import __version__
from app.auth.replay import MemoryReplayStore, RedisReplayStore, ReplayStore
from app.db import Database
from app.db.migrate import upgrade
from app.desirability import routes as desirability
from app.desirability.service import Desirability
from app.errors import add_exception_handlers
from app.housekeeping.service import Housekeeping
from app.limits import IpRateLimit, RateLimits
from app.metagraph import FileSource, MetagraphCache, MetagraphSource
from app.metrics import install_metrics
from app.middleware import BodySizeLimit, CollapseSlashes
from app.ondemand import routes as ondemand
from app.ondemand.service import OnDemand
from app.ops.heap import settle_after_startup
from app.ops.readiness import Readiness
from app.ops.requests import RequestLog
from app.results import routes as results
from app.results.service import ValidationResults
from app.routes import docs, health, miner_folders, miners, validators
from app.routes.openapi import OpenApiApp
from app.services import Services
from app.storage.bucket import BucketProbe
from app.storage.calls import StorageCalls
from app.storage.client import make_s3_client
from app.storage.discovery import FolderDiscovery
from app.storage.heads import StorageHeads
from app.storage.presign import Presigner
from config import Settings

logger = logging.getLogger(__name__)

NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

# A local metagraph file loads in milliseconds; waiting for it avoids a burst of 503s at start.
FILE_STARTUP_WAIT_SECONDS = 5.0

DESCRIPTION = """
Miners and validators of a Bittensor subnet prove their hotkey with a signature and
receive short-lived, narrowly scoped S3 access: presigned POST forms that can only write
under the miner's own folder, and presigned list/GET URLs for validators.

**Signing.** Each endpoint says which signatures it accepts (the lock icons):

- *Tao v2 headers*: `X-Tao-Version: 2`, `X-Tao-Timestamp` (unix ms), `X-Tao-Nonce` (UUID4),
  `X-Tao-Signed-By` (hotkey), `X-Tao-Signature`: base64 of the hotkey's sr25519 signature of
  `sha256(raw body).hexdigest() + "." + nonce + "." + timestamp`.
- *btauth/1 headers* (`bittensor.http_auth.sign`): `X-Bittensor-Version`, `-Hotkey`, `-Nonce`,
  `-Signature`, optional `-Receiver`.
- *Legacy body signature*: `hotkey`, `timestamp` (unix s) and `signature` (hex) in the body,
  over a message named per endpoint (for example `s3:access:{coldkey}:{source}:{timestamp}`).

Every refusal is `{"detail": "<sentence>", "code": "<snake_case>"}`; each endpoint lists
its codes per status. The protocol for client authors, with the exact bytes signed in
worked examples: [docs/protocol.md](/docs/protocol.md); every error code:
[docs/errors.md](/docs/errors.md). Also as [ReDoc](/redoc).
"""


# The order /docs and /redoc list endpoints in: the callers first, operators last.
OPENAPI_TAGS = [
    {"name": "miners", "description": "Registered hotkeys: upload grants."},
    {"name": "validators", "description": "Validators: list and download miners' data."},
    {"name": "operators", "description": "Health, liveness and metrics; no signature."},
]


def metagraph_source_for(settings: Settings) -> MetagraphSource:
    if settings.metagraph_file is not None:
        return FileSource(settings.metagraph_file)
    from app.metagraph.chain import ChainSource

    return ChainSource(network=settings.bt_network, netuid=settings.netuid)


def build_services(
    settings: Settings,
    *,
    metagraph_source: MetagraphSource | None = None,
    s3_client: BaseClient | None = None,
    replay_store: ReplayStore | None = None,
) -> Services:
    source = metagraph_source or metagraph_source_for(settings)
    s3 = s3_client or make_s3_client(settings)
    internal_presigner = Presigner(s3, settings.s3_bucket)
    public_s3 = None
    presigner = internal_presigner
    if settings.presign_endpoint_url != settings.s3_endpoint_url:
        public_s3 = make_s3_client(settings, public=True)
        presigner = Presigner(public_s3, settings.s3_bucket)
    db = Database(settings.database_url)
    storage = StorageCalls()
    metagraph = MetagraphCache(
        source,
        refresh_seconds=settings.metagraph_refresh_seconds,
        max_age_seconds=settings.metagraph_max_age_seconds,
    )
    bucket = BucketProbe(s3, settings.s3_bucket, storage.run_within)
    # One store holds claims and counters, so a signed request is decided in one call.
    store = replay_store or replay_store_for(settings)
    return Services(
        settings=settings,
        metagraph=metagraph,
        s3=s3,
        presigner=presigner,
        replay=store,
        limits=RateLimits(settings, store),
        discovery=FolderDiscovery(
            s3,
            settings.s3_bucket,
            settings.sources,
            max_age_seconds=settings.discovery_cache_seconds,
            storage=storage,
        ),
        db=db,
        ondemand=OnDemand(settings, db, s3, presigner, storage),
        storage=storage,
        desirability=Desirability(db),
        results=ValidationResults(db),
        storage_heads=StorageHeads(),
        housekeeping=Housekeeping(settings, storage, db, metagraph),
        internal_presigner=internal_presigner,
        bucket=bucket,
        readiness=Readiness(
            metagraph=metagraph,
            max_age_seconds=settings.metagraph_max_age_seconds,
            db=db,
            bucket=bucket,
            redis_url=settings.rate_limit_storage if settings.uses_shared_store else None,
        ),
        public_s3=public_s3,
    )


def replay_store_for(settings: Settings) -> ReplayStore:
    if settings.uses_shared_store:
        return RedisReplayStore(settings.rate_limit_storage)
    return MemoryReplayStore()


def create_app(
    settings: Settings,
    *,
    metagraph_source: MetagraphSource | None = None,
    s3_client: BaseClient | None = None,
    replay_store: ReplayStore | None = None,
    first_routers: Sequence[APIRouter] = (),
    settle_heap: bool = False,
) -> FastAPI:
    """The service's app; `first_routers` match before its own routes (the dev /docs).

    `settle_heap` freezes what startup built out of the garbage collector's passes
    (app/ops/heap.py): for a serving worker, not for tests that build many apps.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(
            settings,
            metagraph_source=metagraph_source,
            s3_client=s3_client,
            replay_store=replay_store,
        )
        app.state.services = services
        try:
            await upgrade(services.db)
            await services.ondemand.start()
            await services.desirability.start()
            services.results.start()
        except BaseException:
            await services.close()
            raise
        await services.replay.open()
        services.metagraph.start()
        services.housekeeping.attach_metrics(app.state.reap_metrics)
        services.housekeeping.start()
        if isinstance(services.metagraph.source, FileSource):
            await wait_for_first_snapshot(services.metagraph, FILE_STARTUP_WAIT_SECONDS)
        if settle_heap:
            settle_after_startup()
        try:
            yield
        finally:
            await services.close()

    app = OpenApiApp(
        title="s3-auth-server",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Starlette's slash redirect builds an absolute URL from the Host header, so any
        # client could make this service point others at a host of its choosing. No
        # deployed client adds a trailing slash; such paths are 404 like any unknown one.
        redirect_slashes=False,
        openapi_tags=OPENAPI_TAGS,
        # Metrics are Prometheus (/metrics). FastAPI's own OpenTelemetry hooks check for
        # providers on every request and cost ~15 µs on the miner path even when none is set.
        telemetry=NO_TELEMETRY,
    )
    add_exception_handlers(app)
    app.add_middleware(BodySizeLimit)
    # Added after (so outside) the body limit: the per-IP count comes before anything else.
    app.add_middleware(IpRateLimit)
    app.add_middleware(CollapseSlashes)
    install_metrics(app)
    # Outermost: every answer, refusals by the guards above included, carries an id.
    app.add_middleware(RequestLog, access_log=settings.access_log)
    for router in first_routers:
        app.include_router(router)
    # Every request walks the routes in this order until one matches (FastAPI matches an
    # included router's routes one by one, twice): the on-demand poll, three in four of
    # the subnet's requests, comes first, then the miners' upload URLs. No two routers
    # share a path, and /docs groups by OPENAPI_TAGS, so the order changes nothing else.
    app.include_router(ondemand.router)
    app.include_router(miners.file_router)
    app.include_router(miners.router)
    app.include_router(validators.router)
    app.include_router(miner_folders.router)
    app.include_router(desirability.router)
    app.include_router(results.router)
    app.include_router(health.router)
    docs.mount_docs(app)
    return app


async def wait_for_first_snapshot(cache: MetagraphCache, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(cache.first_attempt.wait(), seconds)
