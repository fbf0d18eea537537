"""A serving worker leaves its startup heap out of garbage collection; test apps do not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import main, serve
from app.ops.heap import YOUNG_THRESHOLD
from tests.conftest import SettingsFactory


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_a_serving_worker_freezes_what_startup_built_and_raises_the_young_threshold(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch, restored_collector: None
) -> None:
    monkeypatch.setattr(serve, "settings_from_environment", lambda: make_settings())
    gc.unfreeze()

    with TestClient(serve.app_from_environment()):
        # bittensor, pydantic and FastAPI's models: far more than a few thousand objects.
        assert gc.get_freeze_count() > 50_000
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD


def test_an_app_built_for_tests_leaves_the_collector_as_it_was(
    make_settings: SettingsFactory, restored_collector: None
) -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    app: FastAPI = main.create_app(make_settings())

    with TestClient(app):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == thresholds
