"""Every app built by `create_app()` is freed once nothing uses it.

FastAPI caches facts about endpoint callables in module-level caches; an endpoint that
closes over its app would keep every app (and its S3 client, ~12 MB) alive for the
whole process, which is how a test run reached gigabytes.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory

APPS = 50


def start_and_stop(settings_factory: SettingsFactory) -> weakref.ref[FastAPI]:
    app = create_app(settings_factory())
    with TestClient(app) as client:
        assert client.get("/healthcheck").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").status_code == 200
    return weakref.ref(app)


def test_fifty_apps_started_and_stopped_are_all_freed(make_settings: SettingsFactory) -> None:
    start_and_stop(make_settings)  # module imports and first-use caches are not growth
    gc.collect()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        refs = [start_and_stop(make_settings) for _ in range(APPS)]
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    alive = [ref for ref in refs if ref() is not None]
    assert alive == [], f"{len(alive)} of {APPS} apps are still referenced"
    growth_mb = (after - baseline) / 1e6
    # One retained app holds about 12 MB; fifty of them would be 600 MB.
    assert growth_mb < 25, f"memory grew by {growth_mb:.1f} MB over {APPS} apps"
