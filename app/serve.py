"""Runs the API under uvicorn with the configured settings."""

from __future__ import annotations

import json
import logging
import os

import uvicorn

from app.logs import configure_logging
from config import Settings

logger = logging.getLogger("app.serve")

# Workers are separate processes that rebuild the app from the environment; this carries
# the settings the parent validated (including command-line overrides) to them.
SETTINGS_ENV = "S3AUTH_SETTINGS_JSON"


def app_from_environment():  # type: ignore[no-untyped-def]
    """ASGI factory for uvicorn workers."""
    from app.main import create_app

    raw = os.environ.get(SETTINGS_ENV)
    settings = Settings.model_validate_json(raw) if raw else Settings()
    configure_logging(settings.log_level)
    return create_app(settings)


def serve(settings: Settings, *, workers: int = 1) -> int:
    configure_logging(settings.log_level)
    if workers > 1 and not settings.uses_shared_store:
        logger.warning(
            "RATE_LIMIT_STORAGE is memory:// with %d workers: rate limits and replay "
            "protection are per worker, so a signature can be replayed once per worker "
            "and limits are %d times looser. Set RATE_LIMIT_STORAGE=redis://...",
            workers,
            workers,
        )
    os.environ[SETTINGS_ENV] = settings_json(settings)
    uvicorn.run(
        "app.serve:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        access_log=settings.access_log,
        proxy_headers=True,
        server_header=False,
    )
    return 0


def settings_json(settings: Settings) -> str:
    values = settings.model_dump(mode="json")
    for name in ("aws_access_key_id", "aws_secret_access_key"):
        secret = getattr(settings, name)
        values[name] = secret.get_secret_value() if secret is not None else None
    for name in ("constellation_api_keys", "admin_api_keys"):
        values[name] = ",".join(key.get_secret_value() for key in getattr(settings, name))
    return json.dumps(values)
