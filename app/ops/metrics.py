"""Who may read /metrics, and a warning when several workers would each count alone."""

from __future__ import annotations

import hmac
import logging
import os
import weakref
from collections.abc import Iterator

from fastapi import FastAPI, Request
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.errors import AuthFailed

logger = logging.getLogger("app.serve")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def bearer_matches(header: str | None, token: str) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())


async def require_metrics_token(request: Request) -> None:
    """With METRICS_TOKEN set, /metrics answers only `Authorization: Bearer <token>`."""
    token = request.app.state.services.settings.metrics_token
    if token is None:
        return
    if not bearer_matches(request.headers.get("authorization"), token.get_secret_value()):
        raise AuthFailed(
            "/metrics needs Authorization: Bearer <METRICS_TOKEN>.", code="invalid_metrics_token"
        )


def warn_about_metrics(workers: int) -> None:
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        logger.warning(
            "%d workers without %s: each worker's /metrics counts only its own requests, "
            "so every scrape sees a different worker's figures. Set %s to an empty "
            "directory writable by the service (an emptyDir in Kubernetes).",
            workers,
            MULTIPROC_ENV,
            MULTIPROC_ENV,
        )


class OnDemandCollector(Collector):
    """Open jobs and how far settling is behind, read at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self._app = weakref.ref(app)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        app = self._app()
        services = getattr(app.state, "services", None) if app is not None else None
        open_jobs = GaugeMetricFamily(
            "s3auth_ondemand_open_jobs", "On-demand jobs not yet expired, as miners see them."
        )
        lag = GaugeMetricFamily(
            "s3auth_ondemand_settle_lag_seconds",
            "How long the oldest job due for settling had waited past its window, at the "
            "last completed settling run.",
        )
        last = GaugeMetricFamily(
            "s3auth_ondemand_settle_last_success_timestamp_seconds",
            "Unix time of the last completed settling run of this process.",
        )
        if services is not None:
            open_jobs.add_metric([], services.ondemand.active.open_count())
            settler = services.ondemand.settler
            if settler.last_success is not None:
                last.add_metric([], settler.last_success)
                lag.add_metric([], settler.last_lag_seconds or 0.0)
        yield from (open_jobs, lag, last)
