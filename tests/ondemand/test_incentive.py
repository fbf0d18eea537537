"""A submission records its miner's incentive from the metagraph, file or chain, and every
view of submissions (the customer's, and validators' miner-jobs and jobs) shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from config import Settings
from tests.conftest import Subnet
from tests.metagraph.conftest import chain_neuron, chain_source, first_load
from tests.metagraph.fake_chain import U16_MAX, FakeChain
from tests.ondemand.conftest import CUSTOMER
from tests.ondemand.test_validators import (
    JOBS,
    MINER_JOBS,
    answered_job,
    around,
    settle_after_window,
    validator_post,
)

Views = dict[str, dict[str, float]]


def incentives(submissions: list[dict[str, Any]]) -> dict[str, float]:
    return {s["miner_hotkey"]: s["miner_incentive"] for s in submissions}


def every_view(client: TestClient, subnet: Subnet, job_id: str) -> Views:
    """Each miner's `miner_incentive` in each answer that shows submissions of the job."""
    customer = client.get(f"/on-demand/constellation/jobs/{job_id}", headers=CUSTOMER)
    assert customer.status_code == 200, customer.text
    window = around(client, job_id)
    per_miner = [
        entry["submission"]
        for member in (subnet.miner, subnet.other_miner)
        for entry in validator_post(
            client,
            subnet,
            MINER_JOBS,
            {"miner_hotkey": member.hotkey.ss58_address, **window, "limit": 1000},
        )["jobs"]
    ]
    [listed] = validator_post(client, subnet, JOBS, {**window, "limit": 10})[
        "jobs_with_submissions"
    ]
    return {
        "customer": incentives(customer.json()["submissions"]),
        "miner-jobs": incentives(per_miner),
        "jobs": incentives(listed["submissions"]),
    }


def test_incentive_from_the_metagraph_file_reaches_every_view(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = answered_job(od_client, subnet)
    settle_after_window(od_client, job_id)

    views = every_view(od_client, subnet, job_id)

    expected = {
        subnet.miner.hotkey.ss58_address: subnet.miner.incentive,
        subnet.other_miner.hotkey.ss58_address: 0.0,
    }
    assert subnet.miner.incentive == 0.2
    assert views == {"customer": expected, "miner-jobs": expected, "jobs": expected}


@pytest.fixture
def chain_client(
    od_settings: Settings,
    subnet: Subnet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[TestClient, FakeChain]]:
    # bittensor caches token symbols on disk at connect; keep that out of the home directory.
    monkeypatch.setenv("BTCLI_TOKEN_SYMBOLS_CACHE", str(tmp_path / "token_symbols.json"))
    chain = FakeChain(13, [chain_neuron(m) for m in subnet.members])
    chain.neurons[subnet.miner.uid].incentive_u16 = 275
    chain.neurons[subnet.other_miner.uid].incentive_u16 = 0
    settings = od_settings.model_copy(update={"metagraph_file": None})
    with TestClient(create_app(settings, metagraph_source=chain_source(chain))) as client:
        first_load(client)
        yield client, chain


def test_incentive_from_the_chain_reaches_every_view(
    chain_client: tuple[TestClient, FakeChain], subnet: Subnet
) -> None:
    client, _ = chain_client
    job_id = answered_job(client, subnet)
    settle_after_window(client, job_id)

    views = every_view(client, subnet, job_id)

    expected = {
        subnet.miner.hotkey.ss58_address: 275 / U16_MAX,
        subnet.other_miner.hotkey.ss58_address: 0.0,
    }
    assert views == {"customer": expected, "miner-jobs": expected, "jobs": expected}


def test_customer_sees_the_incentive_before_the_job_settles(
    od_client: TestClient, subnet: Subnet
) -> None:
    job_id = answered_job(od_client, subnet)

    customer = od_client.get(f"/on-demand/constellation/jobs/{job_id}", headers=CUSTOMER)

    assert incentives(customer.json()["submissions"])[subnet.miner.hotkey.ss58_address] == 0.2
