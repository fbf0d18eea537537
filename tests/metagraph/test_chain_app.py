"""The app on a live (fake) chain: who is allowed follows the chain, and no request waits on it."""

from __future__ import annotations

import dataclasses
import logging

import httpx2 as httpx
import pytest
from bittensor import RpcConnectionError
from bittensor.sp_core import Keypair
from fastapi.testclient import TestClient

from app.deps import get_services
from app.main import create_app
from app.metagraph import MetagraphCache
from app.seaweed import free_ports
from config import Settings
from tests.conftest import SettingsFactory, Subnet
from tests.metagraph.conftest import AppFactory, cache_of, chain_source, first_load, refresh
from tests.metagraph.fake_chain import ChainNeuron, FakeChain
from tests.signing import key, miner_body


def grant(client: TestClient, hotkey: Keypair, coldkey: str) -> httpx.Response:
    return client.post("/get-folder-access", json=miner_body(hotkey, coldkey))


def test_deregistered_miner_loses_access_and_a_new_registration_gains_it_at_next_refresh(
    chain_app: AppFactory, chain: FakeChain, subnet: Subnet
) -> None:
    newcomer_hot, newcomer_cold = key("newcomer-hot"), key("newcomer-cold")
    miner = subnet.miner
    with TestClient(chain_app()) as client:
        first_load(client)
        before = grant(client, miner.hotkey, miner.coldkey.ss58_address)
        newcomer_before = grant(client, newcomer_hot, newcomer_cold.ss58_address)

        chain.replace(
            miner.hotkey.ss58_address,
            ChainNeuron(newcomer_hot.ss58_address, newcomer_cold.ss58_address),
        )
        refresh(client)
        after = grant(client, miner.hotkey, miner.coldkey.ss58_address)
        newcomer_after = grant(client, newcomer_hot, newcomer_cold.ss58_address)
        health = client.get("/healthcheck").json()

    assert before.status_code == 200
    assert newcomer_before.status_code == 401
    assert newcomer_before.json()["code"] == "not_registered"
    assert after.status_code == 401
    assert after.json()["code"] == "not_registered"
    assert newcomer_after.status_code == 200
    assert newcomer_after.json()["folder"] == f"data/x/{newcomer_cold.ss58_address}/"
    assert health["metagraph"]["block"] == chain.block
    assert health["metagraph"]["source"] == "chain"


def test_a_refresh_that_raises_keeps_serving_the_last_snapshot(
    chain_app: AppFactory, chain: FakeChain, subnet: Subnet, caplog: pytest.LogCaptureFixture
) -> None:
    miner = subnet.miner
    with TestClient(chain_app()) as client:
        first_load(client)
        chain.replace(miner.hotkey.ss58_address, ChainNeuron(key("y").ss58_address, "5y"))
        chain.failure = RpcConnectionError("node is syncing")
        with caplog.at_level(logging.WARNING), pytest.raises(RpcConnectionError):
            refresh(client)
        response = grant(client, miner.hotkey, miner.coldkey.ss58_address)
        health = client.get("/healthcheck")

    assert response.status_code == 200
    assert health.status_code == 200
    assert "metagraph refresh from chain failed: RpcConnectionError: node is syncing" in (
        caplog.text
    )


def test_a_stale_chain_snapshot_refuses_auth_with_503_and_degrades_health(
    chain_settings: Settings, chain: FakeChain, subnet: Subnet
) -> None:
    now = [5_000.0]
    cache = MetagraphCache(
        chain_source(chain),
        refresh_seconds=3600,
        max_age_seconds=chain_settings.metagraph_max_age_seconds,
        clock=lambda: now[0],
    )
    app = create_app(chain_settings, metagraph_source=chain_source(chain))
    miner = subnet.miner
    with TestClient(app) as client:
        client.portal.call(cache.refresh)
        # Same app and services, but reading a cache whose clock the test moves.
        services = dataclasses.replace(app.state.services, metagraph=cache)
        app.dependency_overrides[get_services] = lambda: services
        fresh = grant(client, miner.hotkey, miner.coldkey.ss58_address)
        now[0] += chain_settings.metagraph_max_age_seconds + 1
        stale = grant(client, miner.hotkey, miner.coldkey.ss58_address)
        health = client.get("/healthcheck")
        client.portal.call(cache.stop)

    assert fresh.status_code == 200
    assert stale.status_code == 503
    assert stale.json()["code"] == "metagraph_stale"
    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    assert "METAGRAPH_MAX_AGE_SECONDS" in health.json()["reason"]
    assert health.json()["metagraph"]["block"] == chain.block


def test_a_request_during_a_hanging_refresh_is_answered_from_the_last_snapshot(
    chain_app: AppFactory, chain: FakeChain, subnet: Subnet
) -> None:
    miner = subnet.miner
    with TestClient(chain_app()) as client:
        first_load(client)
        gate = chain.block_thread()
        try:
            pending = client.portal.start_task_soon(cache_of(client).refresh)
            assert chain.entered.wait(10), "the refresh never reached the chain"
            during = grant(client, miner.hotkey, miner.coldkey.ss58_address)
            health = client.get("/healthcheck")
            still_hanging = not pending.done()
        finally:
            gate.set()
        pending.result(timeout=30)

    assert still_hanging
    assert during.status_code == 200
    assert health.status_code == 200


def test_app_starts_when_the_chain_is_unreachable_and_health_says_why(
    chain_app: AppFactory, chain: FakeChain, subnet: Subnet, caplog: pytest.LogCaptureFixture
) -> None:
    chain.unreachable = RpcConnectionError("could not connect to any endpoint: refused")
    miner = subnet.miner
    with caplog.at_level(logging.WARNING), TestClient(chain_app()) as client:
        first_load(client)
        health = client.get("/healthcheck")
        refused = grant(client, miner.hotkey, miner.coldkey.ss58_address)
        chain.unreachable = None
        refresh(client)
        recovered = grant(client, miner.hotkey, miner.coldkey.ss58_address)

    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "degraded"
    assert body["metagraph"] is None
    assert "RpcConnectionError: could not connect to any endpoint: refused" in body["reason"]
    assert refused.status_code == 503
    assert refused.json()["code"] == "metagraph_unavailable"
    assert "metagraph refresh from chain failed" in caplog.text
    assert recovered.status_code == 200


def test_app_configured_for_a_chain_endpoint_that_refuses_starts_degraded(
    make_settings: SettingsFactory,
) -> None:
    # The production wiring (no injected source): bittensor's own RPC client dials a
    # loopback port where nothing listens, and is refused at once.
    settings = make_settings(metagraph_file=None, bt_network=f"ws://127.0.0.1:{free_ports(1)[0]}")
    with TestClient(create_app(settings)) as client:
        first_load(client)
        health = client.get("/healthcheck")

    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    assert "RpcConnectionError" in health.json()["reason"]


def test_health_says_the_first_chain_load_is_still_running_while_it_hangs(
    chain_app: AppFactory, chain: FakeChain
) -> None:
    gate = chain.block_thread()
    try:
        with TestClient(chain_app()) as client:
            assert chain.entered.wait(10), "the first load never reached the chain"
            health = client.get("/healthcheck")
            gate.set()
    finally:
        gate.set()

    assert health.status_code == 503
    assert health.json()["status"] == "degraded"
    assert "the first load from the chain is still running" in health.json()["reason"]
