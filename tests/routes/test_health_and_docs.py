"""Operators' healthcheck and the developers' offline docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.signing import miner_body


def test_healthcheck_reports_the_loaded_metagraph(client: TestClient) -> None:
    response = client.get("/healthcheck")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["bucket"] == "test-bucket"
    assert body["region"] == "us-east-1"
    assert body["metagraph"]["netuid"] == 13
    assert body["metagraph"]["block"] == 100
    assert body["metagraph"]["neurons"] == 4
    assert body["metagraph"]["source"] == "file"
    assert body["metagraph"]["age_seconds"] >= 0
    assert body["version"]


def test_unreadable_metagraph_file_degrades_health_and_refuses_auth_with_503(
    make_settings: SettingsFactory, tmp_path: Path, subnet: Subnet
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with TestClient(create_app(make_settings(metagraph_file=broken))) as client:
        health = client.get("/healthcheck")
        grant = client.post(
            "/get-folder-access",
            json=miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address),
        )

    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    assert health.json()["metagraph"] is None
    assert "not valid JSON" in health.json()["reason"]
    assert grant.status_code == 503
    assert grant.json()["code"] == "metagraph_unavailable"


def test_missing_metagraph_file_does_not_stop_startup(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(metagraph_file=tmp_path / "absent.json")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthcheck")

    assert response.status_code == 503
    assert "FileNotFoundError" in response.json()["reason"]


def test_docs_render_from_assets_served_by_the_app(client: TestClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    asset_urls = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert asset_urls, page.text
    for url in asset_urls:
        assert not url.startswith(("http://", "https://", "//")), url
        assert client.get(url).status_code == 200, url


def test_openapi_documents_the_miner_request_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    operation = spec["paths"]["/get-folder-access"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "coldkey" in schema["required"]
    assert "source" in schema["properties"]
    assert {"403", "401", "503"} <= set(operation["responses"])
    json.dumps(spec)  # serialisable as served


def test_livez_answers_ok_and_reveals_nothing_else(client: TestClient) -> None:
    response = client.get("/livez")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"


def test_livez_answers_while_the_metagraph_is_missing(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    # Liveness is about the process; readiness (/healthcheck) is about the metagraph.
    settings = make_settings(metagraph_file=tmp_path / "absent.json")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthcheck").status_code == 503
        assert client.get("/livez").status_code == 200
