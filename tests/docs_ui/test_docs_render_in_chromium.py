"""/docs and /redoc render in a real browser, offline, with every endpoint and its examples.

Runs Debian's `chromium` headless against a live server; skipped where it is not
installed (the test installs nothing; `.ci/run` installs it when it can).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn

from app.main import create_app
from app.routes import examples
from app.seaweed import free_ports
from config import Settings

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    # The page must not need the internet: any request off this host fails.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live app on a free port; S3 and the chain are never contacted to show its docs."""
    metagraph = tmp_path_factory.mktemp("docs-ui") / "metagraph.json"
    metagraph.write_text(json.dumps({"netuid": 13, "block": 1, "neurons": []}))
    settings = Settings(
        _env_file=None,
        metagraph_file=metagraph,
        s3_endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="docs",
        aws_secret_access_key="docs-secret",
    )
    port = free_ports(1)[0]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
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


def rendered_text(url: str, tmp_path: Path) -> str:
    """The page's text after its scripts ran, as Chromium renders it."""
    result = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    without_tags = re.sub(r"<[^>]+>", " ", result.stdout)
    return squeezed(html.unescape(without_tags))


def squeezed(text: str) -> str:
    # Highlighted code is split into spans: compare text with all whitespace removed.
    return re.sub(r"\s+", "", text)


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def leaves(example: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(example, dict):
        for key, value in example.items():
            if isinstance(value, dict | list):
                yield from leaves(value)
            else:
                yield key, value
    elif isinstance(example, list):
        for value in example:
            yield from leaves(value)


def shown_as(example: Any) -> str:
    """How one telling `"key": value` pair of a JSON example reads on the page."""
    pairs = list(leaves(example))
    telling = [
        (k, v) for k, v in pairs if isinstance(v, str) and 6 <= len(v) <= 80 and "://" not in v
    ]
    key, value = (telling or pairs)[0]
    return f"{json.dumps(key)}: {json.dumps(value)}"


def test_swagger_ui_shows_every_endpoint_its_examples_and_error_codes(
    docs_server: str, tmp_path: Path
) -> None:
    spec = httpx2.get(f"{docs_server}/openapi.json", timeout=10).json()

    text = rendered_text(f"{docs_server}/docs?docExpansion=full", tmp_path)

    assert "s3-auth-server" in text
    for method, path, operation in operations(spec):
        assert f"{method.upper()}{path}" in text, (method, path)
        answer = next(
            media.get("example")
            for status in ("200", "201")
            if status in operation["responses"]
            for media in operation["responses"][status].get("content", {}).values()
        )
        expected = squeezed(answer.split()[0] if isinstance(answer, str) else shown_as(answer))
        assert expected in text, f"{method} {path}: example answer {expected!r} not shown"
        request = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if request and request.get("example"):
            expected = squeezed(shown_as(request["example"]))
            assert expected in text, f"{method} {path}: example request {expected!r} not shown"
    # Request examples are shown by name, error codes by their example names.
    assert "legacybodysignature" in text
    assert "coldkey_mismatch" in text
    assert "not_registered" in text
    assert "X-Tao-Signature" in text or "TaoSignature" in text


def test_redoc_renders_offline_with_every_endpoint(docs_server: str, tmp_path: Path) -> None:
    spec = httpx2.get(f"{docs_server}/openapi.json", timeout=10).json()

    text = rendered_text(f"{docs_server}/redoc", tmp_path)

    for _, path, _ in operations(spec):
        assert path in text, path
    assert "Requestsamples" in text
    assert squeezed(shown_as(examples.FOLDER_ACCESS_ANSWER)) in text
    assert "legacybodysignature" in text
    assert "X-Tao-Signature" in text
