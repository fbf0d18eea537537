"""An app on SQLite and PostgreSQL whose subnet holds a trusted and an untrusted validator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.main import create_app
from app.results.models import ValidationResult
from config import Settings
from tests.conftest import Member, SettingsFactory, Subnet
from tests.signing import key, spaced, tao_headers

RESULTS_PATH = "/s3-validation/results"


@pytest.fixture(scope="session")
def untrusted_validator() -> Member:
    """Permit and stake, but not in TRUSTED_VALIDATORS."""
    return Member(4, key("untrusted-hot"), key("untrusted-cold"), True, 80_000.0)


@pytest.fixture
def metagraph_file(tmp_path: Path, subnet: Subnet, untrusted_validator: Member) -> Path:
    metagraph = subnet.metagraph()
    metagraph["neurons"].append(untrusted_validator.row())
    path = tmp_path / "metagraph.json"
    path.write_text(json.dumps(metagraph))
    return path


@pytest.fixture
def results_settings(make_settings: SettingsFactory, database_url: str, subnet: Subnet) -> Settings:
    return make_settings(database_url=database_url, trusted_validators=str(subnet.validator.uid))


@pytest.fixture
def results_client(results_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(results_settings)) as client:
        yield client


def post_results(client: TestClient, signer: Member, body: dict[str, Any]) -> Any:
    """As today's publisher sends it: `json.dumps` bytes, Tao v2 headers."""
    raw = spaced(body)
    headers = {**tao_headers(signer.hotkey, raw), "Content-Type": "application/json"}
    return client.post(RESULTS_PATH, content=raw, headers=headers)


def get_results(client: TestClient, signer: Member) -> Any:
    return client.get(RESULTS_PATH, headers=tao_headers(signer.hotkey, b""))


def stored(client: TestClient) -> dict[str, ValidationResult]:
    async def rows() -> dict[str, ValidationResult]:
        services = client.app.state.services  # type: ignore[attr-defined]
        async with services.db.session() as session:
            found = (await session.scalars(select(ValidationResult))).all()
            return {row.miner_hotkey: row for row in found}

    assert client.portal is not None
    return client.portal.call(rows)  # type: ignore[no-any-return]
