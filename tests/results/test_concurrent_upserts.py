"""Many trusted publishers upserting the same miners in different orders all get through.

Rows written in arbitrary order deadlock on PostgreSQL (each upsert locks its rows as it
goes); the service writes them sorted by miner hotkey and gives the write a deadline the
database's own lock waits fit in.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import Member, SettingsFactory, Subnet
from tests.database import empty_postgres_tables
from tests.results.conftest import post_results, stored
from tests.signing import key

REQUESTS = 300
IN_FLIGHT = 20
MINERS = [key(f"upsert-miner-{index}").ss58_address for index in range(40)]


@pytest.fixture
def pg_results_client(
    make_settings: SettingsFactory, postgres_database: str, subnet: Subnet
) -> Iterator[TestClient]:
    empty_postgres_tables(postgres_database)
    settings = make_settings(
        database_url=postgres_database,
        trusted_validators=str(subnet.validator.uid),
        rate_limit_validator="100000/hour",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def shuffled_body(seed: int) -> dict[str, list[dict[str, object]]]:
    order = MINERS[:]
    random.Random(seed).shuffle(order)
    return {"results": [{"miner_hotkey": m, "score": {"round": seed}} for m in order]}


def test_300_upserts_at_20_in_flight_nearly_all_succeed_with_one_row_per_miner(
    pg_results_client: TestClient, subnet: Subnet
) -> None:
    publisher: Member = subnet.validator

    def publish(seed: int) -> int:
        response = post_results(pg_results_client, publisher, shuffled_body(seed))
        return int(response.status_code)

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        statuses = list(pool.map(publish, range(REQUESTS)))

    assert statuses.count(200) >= 0.99 * REQUESTS, sorted(set(statuses))
    rows = stored(pg_results_client)
    assert sorted(rows) == sorted(MINERS)
