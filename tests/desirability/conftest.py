"""An app on SQLite and on PostgreSQL with admin keys, and helpers to publish and read lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bittensor.sp_core import Keypair
from fastapi.testclient import TestClient

from app.desirability.models import DDList
from app.main import create_app
from config import Settings
from tests.app_state import count_rows
from tests.conftest import SettingsFactory
from tests.signing import tao_headers

ADMIN_KEY = "admin-key-1"
ADMIN = {"X-API-Key": ADMIN_KEY}
MINER_PATH = "/dynamic-desirability/miner/get-latest-list"
VALIDATOR_PATH = "/dynamic-desirability/validator/get-latest-list"
LIST_PATH = "/dynamic-desirability/list"


@pytest.fixture
def dd_settings(make_settings: SettingsFactory, database_url: str) -> Settings:
    return make_settings(database_url=database_url, admin_api_keys=f"{ADMIN_KEY},admin-key-2")


@pytest.fixture
def dd_client(dd_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(dd_settings)) as client:
        yield client


def stored_lists(client: TestClient) -> int:
    return count_rows(client, DDList)


def entry(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "crawler-7-h4rptebsja6qbdmocrt98",
        "platform": "x",
        "weight": 2.4,
        "label": "#bittensor",
    }
    values.update(fields)
    return values


def publish(client: TestClient, entries: list[dict[str, Any]], **headers: str) -> Any:
    return client.put(LIST_PATH, json={"entries": entries}, headers=headers or ADMIN)


def signed_get(client: TestClient, signer: Keypair, path: str) -> Any:
    return client.get(path, headers=tao_headers(signer, b""))
