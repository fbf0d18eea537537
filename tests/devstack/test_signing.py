"""The dev app signs Try-it-out requests for dev identities only; the served app never signs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.devstack.keys import dev_keys, dev_metagraph
from app.devstack.signing import create_dev_app
from app.main import create_app
from app.routes.examples import FILE_UPLOAD_REQUEST
from config import Settings
from tests.conftest import SettingsFactory

UPLOAD_BODY = json.dumps(FILE_UPLOAD_REQUEST, indent=2)


@pytest.fixture
def dev_settings(s3_settings: Settings, tmp_path: Path) -> Settings:
    metagraph = tmp_path / "dev-metagraph.json"
    metagraph.write_text(json.dumps(dev_metagraph(dev_keys(), 13)))
    return s3_settings.model_copy(update={"metagraph_file": metagraph})


@pytest.fixture
def dev_client(dev_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_dev_app(dev_settings)) as client:
        yield client


def test_headers_from_dev_sign_get_a_dev_miner_an_upload_url(dev_client: TestClient) -> None:
    signed = dev_client.post("/dev/sign", json={"identity": "dev-miner-1", "body": UPLOAD_BODY})
    assert signed.status_code == 200, signed.text

    answer = dev_client.post(
        "/get-file-upload-url",
        content=UPLOAD_BODY,
        headers={**signed.json(), "Content-Type": "application/json"},
    )

    assert answer.status_code == 200, answer.text
    assert f"hotkey={dev_keys()[0].hotkey.ss58_address}/" in answer.json()["s3_key"]


def test_each_signing_has_a_fresh_nonce_and_one_use(dev_client: TestClient) -> None:
    request = {"identity": "dev-miner-2", "body": UPLOAD_BODY}
    first, second = (dev_client.post("/dev/sign", json=request).json() for _ in range(2))
    assert first["X-Tao-Nonce"] != second["X-Tao-Nonce"]
    headers = {**first, "Content-Type": "application/json"}

    used = dev_client.post("/get-file-upload-url", content=UPLOAD_BODY, headers=headers)
    replayed = dev_client.post("/get-file-upload-url", content=UPLOAD_BODY, headers=headers)

    assert used.status_code == 200, used.text
    assert replayed.status_code == 401, replayed.text


@pytest.mark.parametrize("identity", ["//Alice", "//dev-miner-1", "dev-miner-9", "", "Alice"])
def test_only_dev_identity_names_are_signed_for(dev_client: TestClient, identity: str) -> None:
    answer = dev_client.post("/dev/sign", json={"identity": identity, "body": ""})

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert "X-Tao-Signature" not in answer.text


def test_dev_docs_offer_every_dev_identity_and_sign_try_it_out(dev_client: TestClient) -> None:
    page = dev_client.get("/docs")

    assert page.status_code == 200
    for key in dev_keys():
        assert f'value="{key.name}"' in page.text
        assert key.hotkey.ss58_address in page.text
    assert "requestInterceptor: signWithDevIdentity" in page.text


def test_served_app_has_no_signing_help(make_settings: SettingsFactory) -> None:
    with TestClient(create_app(make_settings())) as client:
        assert client.post("/dev/sign", json={"identity": "dev-miner-1"}).status_code == 404
        page = client.get("/docs").text
        assert "/dev/sign" not in page
        assert "dev-miner-1" not in page


def test_serve_builds_the_plain_app_and_dev_the_signing_one() -> None:
    from app.dev import DEV_APP_FACTORY
    from app.serve import APP_FACTORY, serve

    assert serve.__kwdefaults__["app_factory"] == APP_FACTORY == "app.serve:app_from_environment"
    assert DEV_APP_FACTORY == "app.devstack.signing:dev_app_from_environment"
