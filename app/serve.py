"""Runs the API under uvicorn with the configured settings."""

from __future__ import annotations

import json
import logging
import os

import uvicorn
from pydantic import SecretStr

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


def _revealed(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, tuple) and any(isinstance(item, SecretStr) for item in value):
        return [_revealed(item) for item in value]
    return value


def settings_json(settings: Settings) -> str:
    """Every setting as workers need it: secrets (credentials, API keys) in the clear."""
    values = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        revealed = _revealed(value)
        if revealed is not value:
            values[name] = revealed
    return json.dumps(values)
