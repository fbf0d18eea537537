"""Who may read /metrics, and a warning when several workers would each count alone."""

from __future__ import annotations

import hmac
import logging
import os

from fastapi import Request

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
