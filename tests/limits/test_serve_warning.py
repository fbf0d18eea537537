"""`s3auth serve --workers N` over memory:// warns that limits and replay are per worker."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app import serve
from tests.conftest import SettingsFactory


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, object]]:
    runs: list[dict[str, object]] = []
    # Several workers without it warn too (tests/ops/test_startup.py).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(serve.uvicorn, "run", lambda *args, **kwargs: runs.append(kwargs))
    monkeypatch.setenv(serve.SETTINGS_FILE_ENV, "")
    return runs


def test_several_workers_on_memory_storage_warn_loudly(
    make_settings: SettingsFactory,
    no_uvicorn: list[dict[str, object]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.serve"):
        serve.serve(make_settings(rate_limit_storage="memory://"), workers=4)

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "memory://" in message
    assert "replay" in message
    assert "per worker" in message
    assert "RATE_LIMIT_STORAGE=redis://" in message
    assert no_uvicorn[0]["workers"] == 4


@pytest.mark.parametrize(
    ("storage", "workers"), [("memory://", 1), ("redis://127.0.0.1:6399/0", 4)]
)
def test_one_worker_or_shared_storage_does_not_warn(
    make_settings: SettingsFactory,
    no_uvicorn: list[dict[str, object]],
    caplog: pytest.LogCaptureFixture,
    storage: str,
    workers: int,
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.serve"):
        serve.serve(make_settings(rate_limit_storage=storage), workers=workers)

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert no_uvicorn[0]["workers"] == workers
