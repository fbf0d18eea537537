"""Prometheus metrics: requests per route, the metagraph's state, and what was published.

Each app gets its own registry so test apps do not share counters. With several
workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory and every worker's
`/metrics` reports the sum of all of them.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ERROR_CODE_KEY
from app.housekeeping.metrics import ReapMetrics
from app.metagraph import MetagraphCache
from app.ops.metrics import OnDemandCollector, require_metrics_token
from app.routes.openapi import answer, refusals

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "s3auth_http_requests",
            "Requests answered, by route template and status.",
            ["route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "s3auth_http_request_duration_seconds",
            "Time to answer, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.refusals = Counter(
            "s3auth_http_refusals",
            "Refusals by route template and `code` (e.g. storage_unavailable, store_unavailable).",
            ["route", "code"],
            registry=registry,
        )
        # `labels()` validates and locks on every call; the label sets are few and fixed.
        self._answers: dict[tuple[str, int], Counter] = {}
        self._latencies: dict[str, Histogram] = {}

    def record(self, route: str, status: int, seconds: float) -> None:
        answers = self._answers.get((route, status))
        if answers is None:
            answers = self._answers[route, status] = self.requests.labels(route, str(status))
        latency = self._latencies.get(route)
        if latency is None:
            latency = self._latencies[route] = self.latency.labels(route)
        answers.inc()
        latency.observe(seconds)

    def record_refusal(self, route: str, code: str) -> None:
        self.refusals.labels(route, code).inc()


PublicationKind = Literal["dd_list", "validation_results"]


class Publications:
    """Lists and score batches this process accepted."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "s3auth_publications",
            "Publications accepted: Dynamic Desirability lists and validation-score batches.",
            ["kind"],
            registry=registry,
        )
        for kind in ("dd_list", "validation_results"):
            self.counter.labels(kind)  # shown at 0 before the first one

    def record(self, kind: PublicationKind) -> None:
        self.counter.labels(kind).inc()


async def get_publications(request: Request) -> Publications:
    return request.app.state.publications  # type: ignore[no-any-return]


PublicationsDep = Annotated[Publications, Depends(get_publications)]


class PublishedStateCollector(Collector):
    """The served Dynamic Desirability list and the newest validation score, at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self._app = weakref.ref(app)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        app = self._app()
        services = getattr(app.state, "services", None) if app is not None else None
        dd_age = GaugeMetricFamily(
            "s3auth_dd_list_age_seconds",
            "Seconds since the served Dynamic Desirability list was published.",
        )
        dd_seq = GaugeMetricFamily(
            "s3auth_dd_list_publication",
            "Publication number of the served Dynamic Desirability list (1 for the first).",
        )
        score_age = GaugeMetricFamily(
            "s3auth_validation_score_newest_age_seconds",
            "Seconds since the newest validation score was published.",
        )
        if services is not None:
            snapshot = services.desirability.latest.current
            if snapshot is not None:
                dd_age.add_metric([], snapshot.age_seconds())
                dd_seq.add_metric([], snapshot.seq)
            age = services.results.newest_age_seconds()
            if age is not None:
                score_age.add_metric([], age)
        yield from (dd_age, dd_seq, score_age)


class MetagraphCollector(Collector):
    """Reads the cache at scrape time, so the age is current whenever Prometheus looks."""

    def __init__(self, app: FastAPI) -> None:
        # Weak: the app holds this collector (through its registry), not the other way round.
        self._app = weakref.ref(app)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        app = self._app()
        services = getattr(app.state, "services", None) if app is not None else None
        cache: MetagraphCache | None = services.metagraph if services else None
        age = GaugeMetricFamily(
            "s3auth_metagraph_age_seconds", "Seconds since the metagraph was last loaded."
        )
        neurons = GaugeMetricFamily("s3auth_metagraph_neurons", "Neurons in the metagraph.")
        block = GaugeMetricFamily("s3auth_metagraph_block", "Block the metagraph was read at.")
        if cache is not None and cache.snapshot is not None:
            age.add_metric([], cache.age_seconds() or 0.0)
            neurons.add_metric([], len(cache.snapshot))
            block.add_metric([], cache.snapshot.block)
        yield from (age, neurons, block)


class MetricsMiddleware:
    """Counts every HTTP answer under its route template (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            # The router records the route it chose in the shared scope.
            matched = scope.get("route")
            route = getattr(matched, "path", None) or "unmatched"
            self.metrics.record(route, status, time.perf_counter() - started)
            code = scope.get(ERROR_CODE_KEY)
            if code is not None:
                self.metrics.record_refusal(route, code)


router = APIRouter(tags=["operators"], dependencies=[Depends(require_metrics_token)])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        **answer(
            "# TYPE s3auth_metagraph_age_seconds gauge\ns3auth_metagraph_age_seconds 12.5\n",
            description="Prometheus text exposition format.",
            media_type=CONTENT_TYPE_LATEST,
        ),
        **refusals(codes=("invalid_metrics_token",)),
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this process (of all workers with PROMETHEUS_MULTIPROC_DIR)."""
    # Read from the app rather than captured: FastAPI caches endpoint callables for the
    # life of the process, so a closure here would keep every app alive.
    registry: CollectorRegistry = request.app.state.scrape_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    registry = CollectorRegistry()
    scrape_registry = registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scrape_registry = CollectorRegistry()
        MultiProcessCollector(scrape_registry)
    scrape_registry.register(MetagraphCollector(app))
    scrape_registry.register(PublishedStateCollector(app))
    scrape_registry.register(OnDemandCollector(app))
    app.state.publications = Publications(registry)
    app.state.reap_metrics = ReapMetrics(registry)
    app.state.scrape_registry = scrape_registry
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(registry))
    app.include_router(router)
