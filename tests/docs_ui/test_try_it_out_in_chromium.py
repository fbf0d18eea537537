"""Try-it-out in a real browser: signed and answered in the dev app, refused under serve.

Playwright (PyPI) drives Debian's `chromium` through `executable_path`; no browser is ever
downloaded. Skipped where chromium is not installed, as the other /docs test is.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from app.devstack.keys import dev_keys, dev_metagraph
from app.devstack.signing import create_dev_app
from app.main import create_app
from app.seaweed import free_ports
from config import Settings
from tests.docs_ui.test_docs_render_in_chromium import chromium

playwright = pytest.importorskip("playwright.sync_api")

ENDPOINTS = ("/get-file-upload-url", "/on-demand/miner/jobs/active")


def bodies() -> dict[str, str]:
    """What a developer types over an example that cannot stay valid: `since` must be recent."""
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return {"/on-demand/miner/jobs/active": json.dumps({"since": since})}


@contextmanager
def live(app: FastAPI) -> Iterator[str]:
    port = free_ports(1)[0]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def dev_settings(s3_settings: Settings, tmp_path: Path) -> Settings:
    metagraph = tmp_path / "dev-metagraph.json"
    metagraph.write_text(json.dumps(dev_metagraph(dev_keys(), 13)))
    return s3_settings.model_copy(update={"metagraph_file": metagraph})


def try_it_out(base: str, paths: tuple[str, ...], tmp_path: Path) -> dict[str, str]:
    """Clicks Try it out, then Execute, on each path's operation; the status shown for each."""
    statuses: dict[str, str] = {}
    typed = bodies()
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page()
            page.goto(f"{base}/docs")
            for path in paths:
                block = page.locator(
                    ".opblock", has=page.locator(f".opblock-summary-path[data-path='{path}']")
                )
                block.locator(".opblock-summary").first.click()
                block.locator("button.try-out__btn").click()
                if path in typed:
                    block.locator("textarea.body-param__text").fill(typed[path])
                block.locator("button.execute").click()
                status = block.locator(
                    ".live-responses-table tr.response td.response-col_status"
                ).first
                status.wait_for(timeout=30_000)
                statuses[path] = status.inner_text().strip()
        finally:
            browser.close()
    return statuses


def test_try_it_out_in_the_dev_app_is_signed_and_answered(
    dev_settings: Settings, tmp_path: Path
) -> None:
    chromium()
    with live(create_dev_app(dev_settings)) as base:
        statuses = try_it_out(base, ENDPOINTS, tmp_path)

    assert statuses == {path: "200" for path in ENDPOINTS}


def test_try_it_out_under_serve_is_refused_unsigned(dev_settings: Settings, tmp_path: Path) -> None:
    chromium()
    with live(create_app(dev_settings)) as base:
        statuses = try_it_out(base, ENDPOINTS, tmp_path)

    assert statuses == {path: "401" for path in ENDPOINTS}
