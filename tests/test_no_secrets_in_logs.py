"""Signatures, policies and presigned URLs are bearer secrets: they never reach the logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.logs import configure_logging
from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.signing import miner_body


def test_grants_and_refusals_log_no_secrets(
    make_settings: SettingsFactory, subnet: Subnet, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("debug")
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(make_settings())) as client:
        body = miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address)
        grant = client.post("/get-folder-access", json=body).json()
        client.post("/get-folder-access", json=body)  # replayed
        client.post("/get-folder-access", json=dict(body, source="reddit"))  # bad signature

    secrets = [
        body["signature"],
        body["signature"][2:],
        grant["fields"]["policy"],
        grant["fields"]["x-amz-signature"],
        grant["list_url"].split("X-Amz-Signature=")[1],
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "expected the app to log something at debug level"
    for secret in secrets:
        assert secret not in logged
