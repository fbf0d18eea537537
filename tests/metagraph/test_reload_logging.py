"""A metagraph file re-read every few seconds is logged when it changes, not every time."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from app.metagraph import FileSource, MetagraphCache
from app.metagraph.sources import MetagraphFormatError
from tests.conftest import Subnet

LOGGER = "app.metagraph.cache"


def loaded_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno >= logging.INFO and "loaded" in r.getMessage()
    ]


def test_unchanged_file_is_logged_once_and_a_change_again(
    metagraph_file: Path, subnet: Subnet, caplog: pytest.LogCaptureFixture
) -> None:
    cache = MetagraphCache(FileSource(metagraph_file), refresh_seconds=10, max_age_seconds=60)
    caplog.set_level(logging.INFO, logger=LOGGER)

    with asyncio.Runner() as runner:
        for _ in range(3):
            runner.run(cache.refresh())
        metagraph_file.write_text(json.dumps(subnet.metagraph(block=101)))
        runner.run(cache.refresh())
        runner.run(cache.refresh())

    lines = loaded_lines(caplog)
    assert len(lines) == 2, lines
    assert "block 100" in lines[0]
    assert "block 101" in lines[1]
    assert cache.snapshot is not None and cache.snapshot.block == 101


def test_a_load_after_a_failure_is_logged_even_if_unchanged(
    metagraph_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = MetagraphCache(FileSource(metagraph_file), refresh_seconds=10, max_age_seconds=60)
    caplog.set_level(logging.INFO, logger=LOGGER)
    good = metagraph_file.read_text()

    with asyncio.Runner() as runner:
        runner.run(cache.refresh())
        metagraph_file.write_text("{broken")
        with pytest.raises(MetagraphFormatError, match="not valid JSON"):
            runner.run(cache.refresh())
        metagraph_file.write_text(good)
        runner.run(cache.refresh())

    assert len(loaded_lines(caplog)) == 2
