"""Log lines as JSON with their request's id; X-Request-ID taken, generated and echoed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ops.logs import REDACTED, Redactor, configure_logging
from app.ops.requests import accepted_id
from tests.conftest import SettingsFactory, Subnet
from tests.signing import miner_body


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("info", "json", stream=stream)
    try:
        yield stream
    finally:
        configure_logging("info")


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_request_ids_and_access_fields(
    make_settings: SettingsFactory, subnet: Subnet, json_log: io.StringIO
) -> None:
    with TestClient(create_app(make_settings())) as client:
        body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
        granted = client.post("/get-folder-access", json=body, headers={"X-Request-ID": "abc-1"})
        refused = client.post("/get-folder-access", json=dict(body, signature="0x00"))
        client.get("/on-demand/constellation/jobs/some-job")

    assert granted.status_code == 200 and granted.headers["X-Request-ID"] == "abc-1"
    generated = refused.headers["X-Request-ID"]
    assert len(generated) == 32
    entries = lines(json_log)
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    access = [e for e in entries if e["logger"] == "app.access"]
    first, second, third = access
    assert first["request_id"] == "abc-1" and first["status"] == 200
    assert first["route"] == "/get-folder-access" and first["method"] == "POST"
    assert first["hotkey"] == subnet.miner.hotkey.ss58_address
    assert isinstance(first["duration_ms"], float)
    assert second["request_id"] == generated and second["status"] == 400
    assert "hotkey" not in second  # its signature did not verify
    # The route template, never the raw path.
    assert third["route"] == "/on-demand/constellation/jobs/{job_id}"


def test_lines_logged_during_a_request_carry_its_id(
    make_settings: SettingsFactory, json_log: io.StringIO
) -> None:
    app = create_app(make_settings())

    @app.get("/_log_probe")
    async def probe() -> dict[str, str]:
        logging.getLogger("app.somewhere").warning("inside")
        return {}

    with TestClient(app) as client:
        client.get("/_log_probe", headers={"X-Request-ID": "req-42"})

    [inside] = [e for e in lines(json_log) if e["message"] == "inside"]
    assert inside["request_id"] == "req-42" and inside["level"] == "warning"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (b"a", True),
        (b"x" * 128, True),
        (b"x" * 129, False),
        (b"", False),
        (b"has space", False),
        (b"tab\there", False),
        ("caf\u00e9".encode(), False),
    ],
)
def test_request_ids_are_one_to_128_visible_ascii_characters(given: bytes, kept: bool) -> None:
    assert (accepted_id(given) is not None) is kept


def test_bad_request_id_is_replaced_by_a_generated_one(make_settings: SettingsFactory) -> None:
    with TestClient(create_app(make_settings())) as client:
        answer = client.get("/livez", headers={"X-Request-ID": "x" * 200})

    assert len(answer.headers["X-Request-ID"]) == 32


def test_redactor_removes_presigned_queries_signatures_and_known_secrets() -> None:
    redact = Redactor(["sk_live_constellation_key"])
    text = redact(
        "HEAD http://s3:9000/b/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=abcdef0123 "
        'X-Amz-Signature=feedface \'"policy": "eyJleHBpcmF0aW9uIjo"\' '
        "Authorization: Bearer tok123456 key sk_live_constellation_key "
        "postgresql+asyncpg://app:hunter22@db/s3auth"
    )

    for secret in ("abcdef0123", "feedface", "eyJleHBp", "tok123456", "sk_live", "hunter22"):
        assert secret not in text
    assert "http://s3:9000/b/k?" + REDACTED in text


def test_uvicorn_access_lines_and_http_client_info_are_not_written(
    json_log: io.StringIO,
) -> None:
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /x?X-Amz-Signature=1 HTTP/1.1"')
    logging.getLogger("httpx2").info("HTTP Request: HEAD http://s3/b/k?X-Amz-Signature=2")
    logging.getLogger("botocore.endpoint").debug("Sending http request")
    logging.getLogger("app.somewhere").info("written")

    assert [e["logger"] for e in lines(json_log)] == ["app.somewhere"]


def test_json_lines_are_redacted_before_encoding(json_log: io.StringIO) -> None:
    logging.getLogger("app.x").warning('form {"policy": "eyJzZWNyZXQ", "key": "k"} sent')
    try:
        raise RuntimeError("GET http://s3/b/k?X-Amz-Signature=abc123 failed")
    except RuntimeError:
        logging.getLogger("app.x").exception("failed")

    written = json_log.getvalue()
    assert "eyJzZWNyZXQ" not in written and "abc123" not in written
    assert len(lines(json_log)) == 2
