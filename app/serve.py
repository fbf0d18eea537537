"""Runs the API under uvicorn with the configured settings.

Workers are separate processes that rebuild the app. The parent hands them its
validated settings (command-line overrides included) in a file only its user can read,
named by `S3AUTH_SETTINGS_FILE` and deleted when the server stops, and removes every
secret setting from the environment the workers inherit: a process's environment is
readable in /proc/<pid>/environ and is passed on to anything it runs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr

from app.http_protocol import GuardedHttpProtocol
from app.ops.logs import configure_from
from app.ops.metrics import warn_about_metrics
from app.ops.startup import prepare_database
from config import Settings

logger = logging.getLogger("app.serve")

SETTINGS_FILE_ENV = "S3AUTH_SETTINGS_FILE"
APP_FACTORY = "app.serve:app_from_environment"
# Settings whose value can carry a password even though they are not SecretStr.
URL_SETTINGS_WITH_CREDENTIALS = ("database_url", "rate_limit_storage")


def settings_from_environment() -> Settings:
    """A worker's settings, with logging and the HTTP protocol configured from them."""
    path = os.environ.get(SETTINGS_FILE_ENV)
    settings = read_settings_file(Path(path)) if path else Settings()
    configure_from(settings)
    GuardedHttpProtocol.configure(settings)
    return settings


def app_from_environment():  # type: ignore[no-untyped-def]
    """ASGI factory for uvicorn workers."""
    from app.main import create_app

    return create_app(settings_from_environment(), settle_heap=True)


def serve(settings: Settings, *, workers: int = 1, app_factory: str = APP_FACTORY) -> int:
    """Runs the app that `app_factory` ("module:function", called in each worker) builds."""
    configure_from(settings)
    failed = prepare_database(settings.database_url, debug=settings.log_level == "debug")
    if failed:
        return failed
    warn_about_metrics(workers)
    if workers > 1 and not settings.uses_shared_store:
        logger.warning(
            "RATE_LIMIT_STORAGE is memory:// with %d workers: rate limits and replay "
            "protection are per worker, so a signature can be replayed once per worker "
            "and limits are %d times looser. Set RATE_LIMIT_STORAGE=redis://...",
            workers,
            workers,
        )
    directory = Path(tempfile.mkdtemp(prefix="s3auth-"))  # mode 0700
    try:
        os.environ[SETTINGS_FILE_ENV] = str(write_settings_file(settings, directory))
        remove_secrets_from_environment(settings)
        uvicorn.run(
            app_factory,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level,
            # uvicorn's loggers go through ours (text or JSON, redacted); the access line
            # is app/ops/requests.py's, which knows the route template and the hotkey.
            log_config=None,
            access_log=False,
            proxy_headers=True,
            server_header=False,
            http="app.http_protocol:GuardedHttpProtocol",
            timeout_keep_alive=settings.keep_alive_seconds,
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def secret_setting_names(settings: Settings) -> list[str]:
    names = list(URL_SETTINGS_WITH_CREDENTIALS)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) or (
            isinstance(value, tuple) and any(isinstance(v, SecretStr) for v in value)
        ):
            names.append(name)
    return names


def remove_secrets_from_environment(settings: Settings) -> None:
    secret = {name.upper() for name in secret_setting_names(settings)}
    for variable in [v for v in os.environ if v.upper() in secret]:
        del os.environ[variable]


def settings_values(settings: Settings) -> dict[str, Any]:
    """Every setting as JSON values, secrets revealed (they are masked in a plain dump)."""
    values = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values[name] = value.get_secret_value()
        elif isinstance(value, tuple) and any(isinstance(v, SecretStr) for v in value):
            values[name] = [v.get_secret_value() for v in value]
    return values


def write_settings_file(settings: Settings, directory: Path) -> Path:
    path = directory / "settings.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(settings_values(settings), out)
    return path


def read_settings_file(path: Path) -> Settings:
    return Settings.model_validate_json(path.read_text(encoding="utf-8"))
